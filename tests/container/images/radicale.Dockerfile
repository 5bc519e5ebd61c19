# Test-only stand-in for ghcr.io/kozea/radicale (unreachable in CI): Radicale from PyPI in a venv,
# run the same way (user radicale, data in /var/lib/radicale, configuration read from
# /etc/radicale/config, which docker-compose.yml mounts).
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}

RUN python3 -m venv /opt/radicale \
    && /opt/radicale/bin/pip install 'radicale>=3.2,<4' \
    && useradd --system --uid 1000 --home-dir /var/lib/radicale --create-home radicale

ENV PATH=/opt/radicale/bin:$PATH
USER 1000
VOLUME ["/var/lib/radicale"]
EXPOSE 5232
ENTRYPOINT ["radicale"]
CMD ["--hosts", "0.0.0.0:5232"]
