# syntax=docker/dockerfile:1
# Segmentation service in a conda environment (pytorch-cuda from the nvidia channel).
FROM condaforge/miniforge3:24.11.3-0

# Channel config and the environment file, written inline
RUN <<CONDARC cat > /opt/conda/.condarc && <<ENVYML cat > /tmp/environment.yml
channels:
  - conda-forge
  - nvidia
channel_priority: strict
CONDARC
name: seg
dependencies:
  - python=3.11
  - pip
  - pytorch-cuda=12.4
ENVYML

RUN --mount=type=cache,target=/opt/conda/pkgs \
    conda env create -f /tmp/environment.yml

RUN conda install -y -n seg -c pytorch -c nvidia \
        pytorch==2.4.1 torchvision==0.19.1 numpy<2 \
    && conda clean -afy

SHELL ["conda", "run", "--no-capture-output", "-n", "seg", "/bin/bash", "-c"]
RUN pip install --no-cache-dir segment-anything==1.0 opencv-python-headless timm>=0.9.12

COPY . /workspace
WORKDIR /workspace
ENTRYPOINT ["conda", "run", "--no-capture-output", "-n", "seg"]
CMD ["python", "serve.py", "--port", "7000"]
