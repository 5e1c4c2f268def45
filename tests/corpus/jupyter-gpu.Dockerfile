# JupyterLab on a CUDA runtime image for the research team.
# Continuation lines are indented with tabs (editorconfig: indent_style = tab).
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

ARG NB_USER=jovyan
ARG NB_UID=1000
ENV DEBIAN_FRONTEND=noninteractive

RUN apt-get update && apt-get install -y --no-install-recommends \
	python3 python3-pip python3-venv \
	git curl sudo tini \
	&& rm -rf /var/lib/apt/lists/*

RUN useradd -m -s /bin/bash -u ${NB_UID} ${NB_USER} \
	&& echo "${NB_USER} ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/${NB_USER}

USER ${NB_USER}
ENV PATH=/home/${NB_USER}/.local/bin:$PATH
WORKDIR /home/${NB_USER}

RUN pip3 install --user \
		jupyterlab==4.3.4 ipywidgets \
		torch==2.5.1 torchvision --extra-index-url https://download.pytorch.org/whl/cu124 \
		# notebooks for the fine-tuning course
		transformers==4.47.1 datasets accelerate

# system-wide tools need root
RUN sudo -E pip3 install --no-cache-dir nvitop==1.4.0

ENV HF_HOME=/home/${NB_USER}/.cache/huggingface
EXPOSE 8888
ENTRYPOINT ["tini", "--"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", "--ServerApp.token="]
