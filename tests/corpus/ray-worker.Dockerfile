# Ray Serve worker for the batch-embedding job (the base image runs as user `ray`).
FROM rayproject/ray:2.40.0-py311-cu121

RUN sudo apt-get update \
    && sudo apt-get install -y --no-install-recommends libsndfile1 \
    && sudo rm -rf /var/lib/apt/lists/*

COPY <<EOF /app/config.yaml
applications:
  - name: embedder
    route_prefix: /embed
    import_path: embedder.app:deployment
    runtime_env:
      env_vars:
        HF_HOME: /mnt/cluster_storage/hf
EOF
COPY --chown=ray:users embedder/ /app/embedder/

RUN pip install --no-cache-dir \
        "ray[serve]==2.40.0" \
        sentence-transformers==3.3.1 \
        "optimum[onnxruntime-gpu]==1.23.3"
RUN sudo -E pip install nvidia-ml-py==12.560.30

WORKDIR /app
ENV PYTHONPATH=/app
CMD ["serve", "run", "/app/config.yaml"]
