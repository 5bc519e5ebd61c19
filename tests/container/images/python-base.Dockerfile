# Test-only: what the Dockerfile gets from python:3.11-slim (python3 with venv and pip, a UTF-8
# locale), on the local Debian image that tests/container/engine.py makes, since CI can pull no
# image from any registry. The host's CA certificates are already in that image (engine.py copies
# them at build time), and pip is told to use the system bundle that holds them.
ARG BOOKWORM_IMAGE
FROM ${BOOKWORM_IMAGE}

ENV LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Test images follow bookworm's current packages: no version pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python-is-python3 \
    && rm -rf /var/lib/apt/lists/*
