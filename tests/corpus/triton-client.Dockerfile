# escape=`
# Perf-analyzer / client image for our Triton deployment. The backtick escape is a
# leftover from when this file was shared with the Windows build agents.
FROM nvcr.io/nvidia/tritonserver:24.12-py3-sdk

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && `
    apt-get install -y --no-install-recommends jq && `
    rm -rf /var/lib/apt/lists/*

# backslashes are literal here: only the backtick continues a line
RUN printf 'ensemble\npreprocess\n' > /workspace/models.txt

RUN pip install --no-cache-dir `
        tritonclient[all]==2.53.0 `
        numpy>=1.24 `
        pandas

WORKDIR /workspace
COPY perf/ ./perf/
RUN python3 -c "import tritonclient.grpc, numpy; print('client ok')"
ENTRYPOINT ["perf_analyzer"]
CMD ["-m", "ensemble", "-u", "triton:8001", "-i", "grpc", "--concurrency-range", "1:8"]
