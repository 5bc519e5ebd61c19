# syncsvc: the daemon, its dashboard and feeds on port 8080.
# The base is a build argument: production uses the upstream slim image; CI builds on a local
# Debian image with python3 and python3-venv (tests/container/images/python-base.Dockerfile).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/syncsvc/bin:$PATH

# The dependencies first, in their own layer (rebuilt only when the lock changes): the exact
# versions of requirements.lock, hashes checked.
WORKDIR /src
COPY requirements.lock ./
RUN python3 -m venv /opt/syncsvc \
    && pip install --require-hashes -r requirements.lock

# Then the code. The root filesystem can be read-only: the state is in /app/var (a volume).
COPY pyproject.toml README.md ./
COPY syncsvc ./syncsvc
RUN pip install --no-deps . \
    && rm -rf /src \
    && groupadd --system --gid 10001 syncsvc \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin syncsvc \
    && mkdir -p /app/var \
    && chown 10001:10001 /app/var

WORKDIR /app
COPY config ./config

USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

# Exec form: SIGTERM reaches syncsvc, which finishes its work and exits 0 (it handles the signal
# itself, even as PID 1; compose adds an init all the same: `init: true`, or `docker run --init`).
ENTRYPOINT ["syncsvc", "run", "--config", "/app/config", "--host", "0.0.0.0"]
CMD ["--log-format", "json"]
