# syntax=docker/dockerfile:1.7
# One image for every ZKPoT service: `zkpot serve <service>` (trainer, prover, validator, block-producer,
# ipfs-gateway) and the operator commands (`zkpot keys gen`, `zkpot genesis`, `zkpot circuit setup`).
# Build: docker build -t zkpot:dev .      (CPU-only torch from the PyTorch CPU index: no CUDA libraries)

# Offline builds (the cluster test, tools/k8s/cluster/images.sh) give a local Python 3.11 base image and a wheelhouse:
#   --build-arg PYTHON_IMAGE=<local image> --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=<wheelhouse URL>
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
# checkov:skip=CKV_DOCKER_7: FROM names ARG PYTHON_IMAGE, whose default pins python:3.11.14-slim-bookworm

# ---- build: resolve the locked dependencies into a virtualenv -------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
# pip reads these from the environment; unset (the default) they change nothing.
ARG PIP_NO_INDEX
ARG PIP_FIND_LINKS
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/zkpot
ENV PATH=/opt/zkpot/bin:$PATH
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
# torch first, from the CPU index, so the lock's torch==2.13.0 is met by 2.13.0+cpu and no CUDA wheels come in.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
# The runtime tree: the lock less the developer tools (tests, linters, chart validation).
RUN grep -viE '^(pytest|pytest-asyncio|ruff|mypy|kubernetes-validate|hypothesis)==' requirements.lock > runtime.lock \
 && pip install -r runtime.lock
COPY services ./services
RUN pip install --no-deps . && zkpot --version
# Frozen circuit specs and settings (zkpot.zk.circuit reads $ZKPOT_CIRCUITS outside a source checkout).
COPY circuits /opt/zkpot/circuits
# The load-test harness (`python -m loadtest`, the chart's loadtest Job), beside zkpot in the virtualenv.
COPY loadtest /opt/zkpot/lib/python3.11/site-packages/loadtest

# ---- runtime: the virtualenv and nothing to build with --------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="zkpot" \
      org.opencontainers.image.description="ZKPoT network services (federated learning with Zero-Knowledge Proof of Training)"
RUN groupadd --system --gid 10001 zkpot \
 && useradd --system --uid 10001 --gid zkpot --home-dir /home/zkpot --create-home --shell /usr/sbin/nologin zkpot
COPY --from=build /opt/zkpot /opt/zkpot
# Writable places under /tmp (an emptyDir in the chart; the root filesystem is read-only there).
ENV PATH=/opt/zkpot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    EZKL_REPO_PATH=/tmp/ezkl \
    ZKPOT_CIRCUITS=/opt/zkpot/circuits \
    ZKPOT_HTTP_PORT=8080
USER 10001:10001
WORKDIR /home/zkpot
EXPOSE 8080
# For docker/compose runs; Kubernetes uses the chart's startup, liveness and readiness probes instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ZKPOT_HTTP_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["zkpot"]
CMD ["--help"]
