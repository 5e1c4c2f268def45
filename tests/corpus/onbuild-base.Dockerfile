# syntax=docker/dockerfile:1
# Team base image. A service Dockerfile is just:
#   FROM registry.internal/ml/onbuild:cu128
# and the ONBUILD triggers below install its requirements and copy its code.
FROM nvidia/cuda:12.8.2-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv
RUN --mount=type=cache,target=/root/.cache/pip pip install --upgrade pip wheel

WORKDIR /app
ONBUILD COPY requirements.txt /app/requirements.txt
ONBUILD RUN pip install -r /app/requirements.txt
ONBUILD COPY . /app
ONBUILD RUN --mount=type=cache,target=/root/.cache/pip pip install --no-cache-dir --no-deps -e /app

HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request as u; u.urlopen('http://localhost:8000/healthz')"
EXPOSE 8000
CMD ["python", "-m", "service"]
