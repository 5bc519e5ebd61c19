#!/bin/sh
# Test-only: the part of the official postgres image's entry point that docker-compose.postgres.yml
# relies on. First start: a cluster whose superuser is $POSTGRES_USER (password
# $POSTGRES_PASSWORD, required from other hosts) and a database $POSTGRES_DB. Then PostgreSQL in
# the foreground, listening on every address of the container.
set -eu
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        pg_ctl --wait --silent --options="-c listen_addresses=''" start
        createdb --username="$user" "$database"
        pg_ctl --wait --silent stop
    fi
fi
exec postgres -c listen_addresses='*'
