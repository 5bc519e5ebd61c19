# Test-only stand-in for axllent/mailpit (unreachable in CI): aiosmtpd from PyPI takes SMTP on
# port 1025, as Mailpit does, and keeps every message in the Maildir /var/mail/caught, which the
# tests read with `docker exec`.
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}

RUN python3 -m venv /opt/catcher \
    && /opt/catcher/bin/pip install 'aiosmtpd>=1.4'

ENV PATH=/opt/catcher/bin:$PATH
EXPOSE 1025
HEALTHCHECK --interval=2s --timeout=3s --retries=30 \
    CMD ["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 1025), 2).close()"]
ENTRYPOINT ["python", "-m", "aiosmtpd", "-n", "-l", "0.0.0.0:1025", \
    "-c", "aiosmtpd.handlers.Mailbox", "/var/mail/caught"]
