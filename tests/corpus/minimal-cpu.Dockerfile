# Smallest possible CPU image for the batch scorer. Saved without a final newline.
FROM python:3.12-slim

LABEL org.opencontainers.image.source="https://github.com/example/scorer" \
      org.opencontainers.image.description="CPU batch scorer"

WORKDIR /app

# exec form: no shell, so the specifier is passed to pip as-is
RUN ["pip", "install", "--no-cache-dir", "numpy>=1.24", "scikit-learn==1.6.0"]

# CPU-only torch from the PyTorch index
RUN pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cpu

RUN PIP_NO_CACHE_DIR=1 pip install sentence-transformers==3.3.1 onnxruntime==1.20.1

COPY . .

ENV OMP_NUM_THREADS=4
STOPSIGNAL SIGINT
ENTRYPOINT python -m scorer.cli
CMD ["--help"]