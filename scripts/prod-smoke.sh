#!/usr/bin/env bash
# Production smoke test: the shipped recipe (deploy/) started for real, on loopback only, then checked.
#
#   scripts/prod-smoke.sh            (as root, on Debian 12; .ci/run calls it after the two test runs)
#
# Starts, each in a temporary folder and on free ports of 127.0.0.1:
#   PostgreSQL 15 (scripts/with-postgres.sh), its own redis-server, nginx with deploy/nginx/rpms.conf and the
#   shared deploy/nginx/rpms-locations.conf (TLS with a throwaway self-signed certificate), gunicorn with
#   3 workers and the RQ worker, both with the ExecStart of their systemd units in deploy/systemd/ and the
#   variables of deploy/rpms.env.example, under config.settings.production with a generated SECRET_KEY.
# Loads the demo data (seed_demo, under the development settings: it refuses production), then
# scripts/prod_smoke.py shows, one PASS/FAIL line each: (a) health through nginx, (b) a login lockout whose
# 5 failures are spread over the workers, (c) a suggestion rate limit across workers, (d) a private file sent
# by nginx through X-Accel-Redirect with its permission checked, (e) an e-mail delivered to a local SMTP sink
# by the worker's retry after the sink was down for the first attempt.
# Everything stops and is removed on exit, whatever happened (RPMS_SMOKE_KEEP=1 keeps the folder;
# RPMS_SMOKE_HOLD=1 keeps the stack running after the checks until $T/release exists, for debugging).
#
# Installs what it needs when missing: postgresql-15, redis-server, nginx, openssl (scripts/sysdeps.sh) and
# the virtualenv with runtime and test dependencies (make sysdeps deps deps-dev). RPMS_SMOKE_PYTHON=<python>
# uses an existing environment instead of .venv.
set -euo pipefail
umask 022  # static files readable by nginx's workers whatever the caller's umask; private ones get 0027 below
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
STARTED=$(date +%s)

say() { printf 'prod-smoke: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  say "须以 root 运行（临时 PostgreSQL 集群与 nginx 工作进程用户需要）/ must run as root" >&2
  exit 2
fi

# 1. Outside: packages and the virtualenv, then run the rest inside a throwaway PostgreSQL cluster.
if [ "${RPMS_SMOKE_INSIDE_PG:-0}" != "1" ]; then
  scripts/sysdeps.sh postgresql-15 redis-server nginx openssl
  if [ -z "${RPMS_SMOKE_PYTHON:-}" ]; then
    command -v make >/dev/null 2>&1 || scripts/sysdeps.sh make
    make --no-print-directory sysdeps deps deps-dev
  fi
  unset DATABASE_URL
  export RPMS_SMOKE_INSIDE_PG=1
  exec scripts/with-postgres.sh "$0" "$@"
fi

PY="${RPMS_SMOKE_PYTHON:-$ROOT/.venv/bin/python}"
VENV_BIN="$(dirname "$PY")"
PG_DATABASE_URL="${DATABASE_URL:?prod-smoke: DATABASE_URL must be set by scripts/with-postgres.sh}"

T="$(mktemp -d /tmp/rpms-smoke.XXXXXX)"
chmod 755 "$T"
mkdir -p "$T/pids" "$T/logs" "$T/run" "$T/tls" "$T/nginx" "$T/redis" "$T/var" "$T/acme"

stop_pid() {  # stop_pid NAME: TERM its process group, then KILL after 15 s
  local file="$T/pids/$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 75); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$file"
}

cleanup() {
  local status=$?
  trap - EXIT
  set +e
  for name in nginx gunicorn worker smtp collectstatic redis; do
    stop_pid "$name"
  done
  if [ "$status" != 0 ]; then
    for log in "$T"/logs/*.log; do
      [ -s "$log" ] || continue
      printf '\n----- %s (last 40 lines) -----\n' "${log#"$T"/}"
      tail -n 40 "$log"
    done
  fi
  say "stopped nginx, gunicorn, the worker, the SMTP sink and Redis"
  if [ "${RPMS_SMOKE_KEEP:-0}" = "1" ]; then
    say "kept $T"
  else
    rm -rf "$T"
    say "removed $T"
  fi
  say "$([ "$status" = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - STARTED ))s (without PostgreSQL's start and stop)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {  # start NAME LOGFILE COMMAND...: in its own session (process group), pid recorded for cleanup
  local name="$1" log="$2"
  shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$T/pids/$name.pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  say "FAIL: $what did not come up within ${seconds}s" >&2
  return 1
}

REDIS_PORT="$(free_port)"
SMTP_PORT="$(free_port)"
HTTPS_PORT="$(free_port)"
HTTP_PORT="$(free_port)"
NGINX_USER="www-data"
id "$NGINX_USER" >/dev/null 2>&1 || NGINX_USER="nobody"
NGINX_GROUP="$(id -gn "$NGINX_USER")"

# 2. The production environment: the shipped template, then what differs on this loopback-only machine.
set -a
# shellcheck disable=SC1091
. deploy/rpms.env.example
set +a
unset EMAIL_HOST_USER EMAIL_HOST_PASSWORD
export DJANGO_SETTINGS_MODULE=config.settings.production
SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export SECRET_KEY
RPMS_AUDIT_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(40))')"
export RPMS_AUDIT_KEY
# personal data at rest (SM4, issue #16): production refuses to start without its own data key (rpms.E020)
RPMS_DATA_KEY="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
export RPMS_DATA_KEY
export DATABASE_URL="$PG_DATABASE_URL"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export CSRF_TRUSTED_ORIGINS="https://127.0.0.1:$HTTPS_PORT"
export RPMS_PUBLIC_BASE_URL="https://127.0.0.1:$HTTPS_PORT"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export RPMS_VAR_DIR="$T/var"
export STATIC_ROOT="$T/var/static" MEDIA_ROOT="$T/var/media" PRIVATE_MEDIA_ROOT="$T/var/private"
export EMAIL_HOST=127.0.0.1 EMAIL_PORT="$SMTP_PORT" EMAIL_USE_TLS=0 EMAIL_USE_SSL=0 EMAIL_TIMEOUT=5
export DEFAULT_FROM_EMAIL="rpms-smoke@localhost"
export RPMS_EMAIL_RETRY_INTERVALS="2,4,8"
export LOG_LEVEL=INFO
export PYTHONUNBUFFERED=1

say "loopback ports: https $HTTPS_PORT, http $HTTP_PORT, redis $REDIS_PORT, smtp $SMTP_PORT (sink not started); folder $T"

# 3. Redis of its own (no persistence), not the system service.
start redis "$T/logs/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$T/redis" \
  --save "" --appendonly no --protected-mode yes --daemonize no
wait_for 20 "redis-server" redis-cli -p "$REDIS_PORT" ping

# 4. Database, demo data, static files (collectstatic runs beside the migrations; migrate runs the system
# checks, e.g. rpms.E010 refusing a process-local cache).
t0=$(date +%s)
start collectstatic "$T/logs/collectstatic.log" "$PY" manage.py collectstatic --noinput
"$PY" manage.py migrate --noinput >"$T/logs/migrate.log"
say "migrated ($(( $(date +%s) - t0 ))s)"
t0=$(date +%s)
# seed_demo refuses the production settings; its notifications are sent inline to an in-memory mailbox.
DJANGO_SETTINGS_MODULE=config.settings.local DEBUG=1 RPMS_JOBS_INLINE=1 \
  EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \
  "$PY" manage.py seed_demo >"$T/logs/seed.log" 2>&1
say "demo data loaded ($(( $(date +%s) - t0 ))s)"
if ! wait "$(cat "$T/pids/collectstatic.pid")"; then
  say "FAIL: collectstatic" >&2
  exit 1
fi
rm -f "$T/pids/collectstatic.pid"
say "collectstatic: $(tail -n 1 "$T/logs/collectstatic.log")"

# Private files as in production: readable by nginx's group only (deploy/systemd units: UMask=0027).
mkdir -p "$PRIVATE_MEDIA_ROOT" "$MEDIA_ROOT"
chgrp -R "$NGINX_GROUP" "$PRIVATE_MEDIA_ROOT"
find "$PRIVATE_MEDIA_ROOT" -type d -exec chmod 2750 {} +
find "$PRIVATE_MEDIA_ROOT" -type f -exec chmod 0640 {} +

# 5. gunicorn and the worker with their systemd units' command lines (code in /srv/rpms → this checkout).
exec_start() {  # exec_start UNIT: the unit's ExecStart, with this checkout and interpreter for /srv/rpms
  sed -n 's/^ExecStart=//p' "deploy/systemd/$1" | head -n 1 \
    | sed -e "s#/srv/rpms/.venv/bin/#$VENV_BIN/#g" -e "s#/srv/rpms#$ROOT#g"
}
if command -v systemd-analyze >/dev/null 2>&1; then  # the units themselves, with the same substitutions
  mkdir -p "$T/systemd"
  for unit in deploy/systemd/rpms-*; do
    sed -e "s#/srv/rpms/.venv/bin/#$VENV_BIN/#g" -e "s#/srv/rpms#$ROOT#g" "$unit" >"$T/systemd/${unit##*/}"
  done
  if ! verify="$(cd "$T/systemd" && systemd-analyze verify --man=no ./rpms-* 2>&1)" || [ -n "$verify" ]; then
    say "FAIL: systemd-analyze verify deploy/systemd/: $verify" >&2
    exit 1
  fi
  say "systemd-analyze verify: deploy/systemd/ units clean"
fi
read -r -a web_cmd <<<"$(exec_start rpms-web.service)"
read -r -a worker_cmd <<<"$(exec_start rpms-worker.service)"
export GUNICORN_CMD_ARGS="--bind unix:$T/run/gunicorn.sock --control-socket $T/run/gunicorn.ctl"
(umask 0027; start gunicorn "$T/logs/gunicorn.log" "${web_cmd[@]}")
(umask 0027; start worker "$T/logs/worker.log" "${worker_cmd[@]}")
unset GUNICORN_CMD_ARGS
say "gunicorn: ${web_cmd[*]}"
say "worker:   ${worker_cmd[*]}"
wait_for 60 "gunicorn" test -S "$T/run/gunicorn.sock"

# 6. nginx with the shipped site and locations, rendered for this folder and these ports.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$T/tls/privkey.pem" -out "$T/tls/fullchain.pem" 2>/dev/null
render() {  # render SRC DEST: the shipped nginx file with this run's folders and loopback ports
  sed -e "s#/etc/nginx/snippets/#$T/nginx/#g" \
      -e "s#/run/rpms/#$T/run/#g" \
      -e "s#/var/lib/rpms/#$T/var/#g" \
      -e "s#/etc/ssl/rpms/#$T/tls/#g" \
      -e "s#/var/log/nginx/rpms\.#$T/logs/nginx-#g" \
      -e "s#/var/www/letsencrypt#$T/acme#g" \
      -e "s#rpms\.example\.gov\.cn#localhost 127.0.0.1#g" \
      -e "s#^\( *\)listen 80;#\1listen 127.0.0.1:$HTTP_PORT;#" \
      -e "s#^\( *\)listen 443 ssl http2;#\1listen 127.0.0.1:$HTTPS_PORT ssl http2;#" \
      -e "/^ *listen \[::\]/d" \
      "$1" >"$2"
  if grep -v '^ *#' "$2" | grep -nE '/var/lib/rpms|/run/rpms|/etc/ssl|/etc/nginx/snippets|/var/log/nginx|/var/www|listen +[^1]'; then
    say "FAIL: $1 names a path or port this script does not know how to move (see above)" >&2
    exit 1
  fi
}
render deploy/nginx/rpms.conf "$T/nginx/rpms.conf"
render deploy/nginx/rpms-locations.conf "$T/nginx/rpms-locations.conf"
# The shipped access_log line in the site is replaced by one that also records whether Django's answer
# carried X-Accel-Redirect and whether the request went upstream at all.
sed -i "s#^\( *\)access_log .*#\1access_log $T/logs/nginx-access.log smoke;#" "$T/nginx/rpms.conf"
cat >"$T/nginx/nginx.conf" <<EOF
# prod-smoke: a whole nginx of its own around the shipped site (deploy/nginx/rpms.conf).
user $NGINX_USER $NGINX_GROUP;
worker_processes 2;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path $T/nginx/client_body;
    proxy_temp_path $T/nginx/proxy;
    fastcgi_temp_path $T/nginx/fastcgi;
    uwsgi_temp_path $T/nginx/uwsgi;
    scgi_temp_path $T/nginx/scgi;
    log_format smoke '\$remote_addr "\$request" \$status \$body_bytes_sent up="\$upstream_addr" xa="\$upstream_http_x_accel_redirect"';
    include $T/nginx/rpms.conf;
}
EOF
nginx -t -q -e "$T/logs/nginx-error.log" -c "$T/nginx/nginx.conf"
start nginx "$T/logs/nginx.log" nginx -e "$T/logs/nginx-error.log" -c "$T/nginx/nginx.conf"
wait_for 30 "nginx" curl -fsS --cacert "$T/tls/fullchain.pem" "https://127.0.0.1:$HTTPS_PORT/api/v1/health"
say "nginx → gunicorn: $(curl -sS --cacert "$T/tls/fullchain.pem" "https://127.0.0.1:$HTTPS_PORT/api/v1/health")"

# 7. The checks.
export SMOKE_HTTPS_PORT="$HTTPS_PORT" SMOKE_HTTP_PORT="$HTTP_PORT" SMOKE_CA="$T/tls/fullchain.pem"
export SMOKE_GUNICORN_LOG="$T/logs/gunicorn.log" SMOKE_WORKER_LOG="$T/logs/worker.log"
export SMOKE_NGINX_ACCESS_LOG="$T/logs/nginx-access.log" SMOKE_SMTP_PORT="$SMTP_PORT"
export SMOKE_MAILDIR="$T/mail" SMOKE_PID_DIR="$T/pids" SMOKE_PYTHON="$PY"
status=0
"$PY" scripts/prod_smoke.py || status=$?
if [ "${RPMS_SMOKE_HOLD:-0}" = "1" ]; then  # debugging: keep the stack up until $T/release exists
  export -p | grep -E ' (SMOKE_|DJANGO_|DATABASE_URL|REDIS_URL|SECRET_KEY|ALLOWED_HOSTS|RPMS_|STATIC_ROOT|MEDIA_ROOT|PRIVATE_MEDIA_ROOT|EMAIL_|DEFAULT_FROM)' >"$T/env.sh"
  say "holding; env in $T/env.sh; touch $T/release to stop"
  while [ ! -e "$T/release" ]; do sleep 1; done
fi
exit "$status"
