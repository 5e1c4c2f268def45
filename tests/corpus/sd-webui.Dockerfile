# syntax=docker/dockerfile:1
# AUTOMATIC1111 stable-diffusion-webui, pinned release, run as an unprivileged user.
FROM nvidia/cuda:12.6.3-runtime-ubuntu22.04
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3.10 python3.10-venv python3-pip git wget \
        libgl1 libglib2.0-0 google-perftools bc \
    && rm -rf /var/lib/apt/lists/*

RUN useradd -m -u 1000 -U webui
USER webui
WORKDIR /home/webui
RUN git clone --depth 1 --branch v1.10.1 https://github.com/AUTOMATIC1111/stable-diffusion-webui.git
WORKDIR /home/webui/stable-diffusion-webui
RUN python3 -m venv venv

# heredoc bodies are tab-indented; <<- strips the tabs
RUN --mount=type=cache,target=/home/webui/.cache/pip,uid=1000,gid=1000 <<-EOF
	set -e
	. venv/bin/activate
	pip install torch==2.1.2 torchvision==0.16.2 --extra-index-url https://download.pytorch.org/whl/cu121
	pip install -r requirements_versions.txt
	EOF

RUN <<-EOF
	. venv/bin/activate
	# extensions we ship, pinned to known-good versions
	pip install xformers==0.0.23.post1 --no-cache-dir
	pip install diffusers==0.31.0 "insightface==0.7.3"
	EOF

EXPOSE 7860
ENTRYPOINT ["/bin/bash", "-c"]
CMD ["./webui.sh --listen --port 7860 --api --xformers"]
