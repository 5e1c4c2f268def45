# WhisperX transcription service. Maintained on Windows: CRLF line endings.
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    HF_HOME=/models/huggingface \
    TORCH_HOME=/models/torch

RUN apt-get update && \
    apt-get install -y --no-install-recommends python3 python3-pip ffmpeg git && \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app

RUN pip3 install \
        --no-cache-dir \
        # cu124 wheels: ctranslate2 4.5 needs cuDNN 9, which this base image ships
        torch==2.5.1 torchaudio==2.5.1 \
        --index-url https://download.pytorch.org/whl/cu124

RUN pip3 install \
        faster-whisper==1.1.0 \
        whisperx==3.3.1 \
        fastapi==0.115.6 "uvicorn[standard]==0.34.0" python-multipart \
        --no-cache-dir

COPY <<EOF /app/logging.yaml
version: 1
root:
  level: INFO
  handlers: [console]
handlers:
  console:
    class: logging.StreamHandler
EOF

COPY app/ /app/
EXPOSE 9000
CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "9000", "--log-config", "/app/logging.yaml"]
