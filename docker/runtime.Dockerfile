# The stock pushflow runtime image: slim Python and pushflow's base install (the runtime,
# the API client and the CLI). Every pool runs its default command, `pushflow execute`,
# which fetches the run's code (bundle or git), installs its requirements and runs it.
# Build from the repository root:
#   docker build -f docker/runtime.Dockerfile -t pushflow/runtime:0.1.0 .
# EXTRAS adds SDKs the flows' result storage needs, e.g. --build-arg EXTRAS=aws,gcs,azure-blob
ARG PYTHON_VERSION=3.12
FROM python:${PYTHON_VERSION}-slim

ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PUSHFLOW_DEPS_CACHE=/var/cache/pushflow/deps \
    PUSHFLOW_WORK_DIR=/tmp/pushflow

# git: for deployments whose source is a git repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml constraints.txt README.md /src/
COPY runtime /src/runtime
COPY pushflow /src/pushflow
COPY pushflow_cli /src/pushflow_cli
COPY push_pools /src/push_pools
COPY control_plane /src/control_plane
RUN pip install -c /src/constraints.txt "/src${EXTRAS:+[$EXTRAS]}" && rm -rf /src

# Runs as a user without privileges; the requirements cache is a volume where the
# provider has one (mount it at PUSHFLOW_DEPS_CACHE).
RUN useradd --create-home --uid 10001 pushflow \
    && mkdir -p /var/cache/pushflow/deps /tmp/pushflow /home/pushflow/app \
    && chown -R pushflow /var/cache/pushflow /tmp/pushflow /home/pushflow/app
USER pushflow
# A deployment with `--source image` has its entrypoint relative to this folder.
WORKDIR /home/pushflow/app

CMD ["pushflow", "execute"]
