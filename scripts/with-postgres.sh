#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster.
#
#   scripts/with-postgres.sh make test
#
# Creates a cluster in a temporary directory (initdb/pg_ctl as user `postgres`), listening on 127.0.0.1
# only, on a free port, with its socket inside that directory; creates database `rpms`; runs the command
# with DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/rpms; then always stops the cluster and removes
# the directory. Exits with the command's status. Installs postgresql-15 (apt) if the binaries are missing.
# The cluster trades durability for speed (fsync off): it only ever holds test data.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  echo "usage: $0 command [args...]" >&2
  exit 2
fi

PG_VERSION="${PG_VERSION:-15}"
PGBIN="${PGBIN:-/usr/lib/postgresql/${PG_VERSION}/bin}"
PG_USER=postgres

if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "with-postgres: $PGBIN/initdb not found, installing postgresql-${PG_VERSION}"
  scripts/sysdeps.sh "postgresql-${PG_VERSION}"
  if [ ! -x "$PGBIN/initdb" ]; then
    echo "with-postgres: PostgreSQL ${PG_VERSION} is not available at $PGBIN" >&2
    exit 1
  fi
fi
if ! id "$PG_USER" >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "$PG_USER"
fi

as_pg() {
  # The cluster must not run as root; `su` needs no password when we are root.
  su "$PG_USER" -s /bin/sh -c "$1"
}

free_port() {
  local port
  for port in 54329 54330 54331 54332 54333 54334 54335 54336 54337 54338; do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  # Fall back to a port the kernel picks.
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PGTMP="$(mktemp -d /tmp/rpms-pg.XXXXXX)"
chmod 700 "$PGTMP"
chown "$PG_USER": "$PGTMP"
PGPORT_CHOSEN="$(free_port)"
started=0

cleanup() {
  local status=$?
  if [ "$started" = "1" ]; then
    as_pg "'$PGBIN/pg_ctl' -D '$PGTMP/data' -m fast -w stop" >/dev/null 2>&1 \
      || as_pg "'$PGBIN/pg_ctl' -D '$PGTMP/data' -m immediate -w stop" >/dev/null 2>&1 || true
    echo "with-postgres: stopped the cluster on port $PGPORT_CHOSEN"
  fi
  rm -rf "$PGTMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "with-postgres: initdb in $PGTMP/data"
as_pg "'$PGBIN/initdb' -D '$PGTMP/data' -U '$PG_USER' --auth=trust -E UTF8 --locale=C.UTF-8" >"$PGTMP/initdb.log" 2>&1 || {
  cat "$PGTMP/initdb.log" >&2
  exit 1
}

opts="-c listen_addresses=127.0.0.1 -p $PGPORT_CHOSEN -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
started=1
as_pg "'$PGBIN/pg_ctl' -D '$PGTMP/data' -l '$PGTMP/server.log' -o '$opts' -w -t 60 start" >/dev/null || {
  cat "$PGTMP/server.log" >&2 || true
  exit 1
}

for _ in $(seq 1 60); do
  if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U "$PG_USER"; then
    break
  fi
  sleep 0.5
done
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U "$PG_USER"
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U "$PG_USER" -d postgres -qAt -c 'SELECT version()'
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT_CHOSEN" -U "$PG_USER" rpms

export DATABASE_URL="postgresql://${PG_USER}@127.0.0.1:${PGPORT_CHOSEN}/rpms"
echo "with-postgres: DATABASE_URL=$DATABASE_URL"
"$@"
