# Bandstand's API and worker image. FFmpeg comes inside the PyAV wheel, so the runtime
# stage installs no system package at all: a slim Python and the virtualenv built below.

# Builder: a wheel of Bandstand, installed with its pinned dependencies into /opt/bandstand.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN python -m venv /opt/bandstand
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/bandstand/bin/pip wheel --no-deps --wheel-dir /build/wheels . \
    && /opt/bandstand/bin/pip install /build/wheels/bandstand-*.whl

# Runtime: the virtualenv, an unprivileged user, the data folder as volumes.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/bandstand/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BANDSTAND_DATA_DIR=/data \
    BANDSTAND_HOST=0.0.0.0 \
    BANDSTAND_PORT=8000 \
    BANDSTAND_LOG_JSON=true
# A fixed uid, so that files on the volumes keep their owner from one image to the next;
# /data/media is made here so that a new named volume mounted on it starts owned by it.
RUN groupadd --system --gid 10001 bandstand \
    && useradd --system --uid 10001 --gid bandstand --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin bandstand \
    && mkdir -p /data/media \
    && chown -R bandstand:bandstand /data
COPY --from=builder /opt/bandstand /opt/bandstand
USER 10001:10001
WORKDIR /data
# The data folder (outbox, scratch space, jobs' working files) and the media nginx reads.
VOLUME ["/data", "/data/media"]
EXPOSE 8000
# No curl in the slim image: Python asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BANDSTAND_PORT', '8000'), timeout=4)"]
CMD ["bandstand", "serve", "--no-access-log"]
