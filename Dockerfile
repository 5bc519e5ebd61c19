# syncsvc: the daemon, its dashboard and feeds on port 8080.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY syncsvc ./syncsvc
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin syncsvc \
    && mkdir -p /app/var \
    && chown syncsvc /app/var
COPY config ./config

USER syncsvc
VOLUME ["/app/var"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

# Exec form: SIGTERM reaches syncsvc, which finishes its work and exits 0.
ENTRYPOINT ["syncsvc", "run", "--config", "/app/config", "--host", "0.0.0.0"]
CMD ["--log-format", "json"]
