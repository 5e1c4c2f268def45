# syntax=docker/dockerfile:1
# Document indexer for the RAG service. CPU by default, GPU with --build-arg USE_GPU=1.
FROM python:3.11-slim-bookworm
ARG USE_GPU=0
ARG TORCH_VERSION=2.5.1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl \
    && rm -rf /var/lib/apt/lists/*

# CPU wheels unless USE_GPU=1
RUN sh -c 'if [ "$USE_GPU" = "1" ]; then \
        pip install torch==${TORCH_VERSION} --index-url https://download.pytorch.org/whl/cu124; \
    else \
        pip install torch==${TORCH_VERSION} --index-url https://download.pytorch.org/whl/cpu; \
    fi'

RUN [ "$USE_GPU" = "1" ] && pip install faiss-gpu-cu12==1.9.0.0 || pip install faiss-cpu==1.9.0.post1

RUN pip install langchain-community==0.3.13 datasets==3.2.0 \
    sentence-transformers==3.3.1 pypdf==5.1.0 "unstructured[pdf]==0.16.11"

WORKDIR /index
COPY indexer/ ./indexer/
ENV HF_HOME=/index/.hf-cache
ENTRYPOINT ["python", "-m", "indexer"]
CMD ["--source", "/docs", "--out", "/index/store"]
