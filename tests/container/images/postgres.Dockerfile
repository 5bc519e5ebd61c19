# Test-only stand-in for the postgres image (unreachable in CI): Debian's PostgreSQL 15 on the
# local Debian image, started by postgres-entrypoint.sh, which honours the official image's
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB and keeps its data in the same place.
ARG BOOKWORM_IMAGE
FROM ${BOOKWORM_IMAGE}

# Test images follow bookworm's current packages: no version pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 /etc/postgresql/15 \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql \
    && chmod 0700 /var/lib/postgresql/data

COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
# The package's system user: its uid is chosen when it is installed.
# hadolint ignore=DL3066
USER postgres
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint.sh"]
