FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY syncsvc ./syncsvc
RUN pip install --no-cache-dir . && useradd --system --home /app syncsvc
COPY config ./config
USER syncsvc
# For now the service validates the configuration and prints the plan (see README, "État").
CMD ["sh", "-c", "syncsvc validate --config /app/config && syncsvc plan --config /app/config"]
