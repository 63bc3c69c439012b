#!/usr/bin/env bash
# The role, migration and isolation tests against PostgreSQL 15 run as a managed database does it:
# the owner role is NOT a superuser, only LOGIN CREATEDB CREATEROLE (RDS, Cloud SQL, Azure).
#
# A throwaway cluster (Debian's postgresql-15, installed with apt-get when missing) is initdb'd in a
# temporary directory as an unprivileged OS user, listens on a Unix socket in that directory only
# (no TCP port, nothing exposed, no clash with another server), and is stopped and removed on exit.
# `python -m app create-roles` (before migrate) and `python -m app migrate` (twice) run against it
# first, then pytest with TEST_DATABASE_URL / TEST_DATABASE_ADMIN_URL pointing at it.
#
#   make test-pg15                  (or tests/pg15/run.sh [extra pytest arguments])
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-.venv/bin/python}
PG_BIN=${PG15_BIN:-/usr/lib/postgresql/15/bin}
OWNER=rms_owner
APP_ROLE=rms_app
DATABASE=rms_pg15
TESTS=(
    tests/db
    tests/jobs/test_job_security.py
    tests/security/test_cross_tenant_probe.py
    tests/api/v1/test_tenants.py
    tests/core/test_cli.py
)
started=$(date +%s)

if [[ ! -x "$PG_BIN/initdb" ]]; then
    echo "PostgreSQL 15 not found in $PG_BIN: installing postgresql-15"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

# PostgreSQL refuses to run as root: as root (CI), the server runs as an unprivileged system user.
as_pg=()
run_as=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
    run_as=postgres
    id -u "$run_as" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$run_as"
    as_pg=(runuser -u "$run_as" --)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rms-pg15.XXXXXX")
chmod 755 "$work"
mkdir "$work/socket"
[[ ${#as_pg[@]} -eq 0 ]] || chown "$run_as" "$work" "$work/socket"
data="$work/data"
socket="$work/socket"

stop() {
    if [[ -f "$data/postmaster.pid" ]]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT

"${as_pg[@]}" "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$work/server.log" -w \
    -o "-c listen_addresses='' -k $socket -c fsync=off -c max_connections=200" start >/dev/null

psql() { "${as_pg[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket" -U postgres "$@"; }
echo "PostgreSQL $(psql -d postgres -Atc 'SHOW server_version') on $socket"
psql -d postgres <<SQL
CREATE ROLE $OWNER LOGIN CREATEDB CREATEROLE NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE $DATABASE OWNER $OWNER;
SQL

url() { echo "postgresql+asyncpg://$1@/$DATABASE?host=$socket"; }
export DATABASE_ADMIN_URL TEST_DATABASE_ADMIN_URL DATABASE_URL TEST_DATABASE_URL
DATABASE_ADMIN_URL=$(url "$OWNER")
DATABASE_URL=$(url "$APP_ROLE")
TEST_DATABASE_ADMIN_URL=$DATABASE_ADMIN_URL
TEST_DATABASE_URL=$DATABASE_URL

"$PYTHON" -m app create-roles  # on the fresh database, before migrate
"$PYTHON" -m app migrate
"$PYTHON" -m app migrate  # again: only what differs is altered (PostgreSQL <= 15 refuses NOSUPERUSER)
test "$(psql -d postgres -Atc "SELECT rolsuper FROM pg_roles WHERE rolname = '$OWNER'")" = f

"$PYTHON" -m pytest -q -p no:cacheprovider "${TESTS[@]}" "$@"
echo "PostgreSQL 15 run finished in $(($(date +%s) - started))s"
