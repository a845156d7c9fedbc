"""gunicorn settings for RPMS in production (used by deploy/systemd/rpms-web.service).

    gunicorn --config deploy/gunicorn.conf.py config.wsgi

Anything here can be overridden for one run with GUNICORN_CMD_ARGS or command-line flags (scripts/prod-smoke.sh
does that to bind inside its temporary folder). nginx (deploy/nginx/) is the only client: it buffers slow
uploads and downloads, so plain synchronous workers suffice.
"""
import os

# nginx connects through this socket (deploy/nginx/rpms.conf, upstream rpms_app). The folder is created by
# systemd (RuntimeDirectory=rpms) and readable by the rpms group, of which nginx's www-data is a member.
bind = os.environ.get("RPMS_GUNICORN_BIND", "unix:/run/rpms/gunicorn.sock")
# 3 workers by default (2-core server): every limit and lockout is shared through Redis and the database,
# so the number of workers changes throughput only.
workers = int(os.environ.get("RPMS_GUNICORN_WORKERS", "3"))
worker_class = "sync"
# A request may run this long (large imports and PDF batches run as jobs; a 500 MB course video arrives
# already buffered by nginx, so reading it from the socket is quick).
timeout = int(os.environ.get("RPMS_GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Recycle workers now and then, so a slow leak in any library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The control socket defaults to ~/.gunicorn, which is read-only under the unit's ProtectSystem=strict.
control_socket = "/run/rpms/gunicorn.ctl"
# Requests arrive over the unix socket from nginx only; gunicorn trusts a unix-socket peer's
# X-Forwarded-Proto, and Django reads the client address from X-Real-IP (set by nginx).
forwarded_allow_ips = "127.0.0.1,::1"

# Logs go to stderr/stdout, i.e. the systemd journal (`journalctl -u rpms-web`). The access log records the
# worker pid (%(p)s) and the client address nginx passed on.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%({x-real-ip}i)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s "%(a)s"'
capture_output = True


# Each worker renders a tiny PDF once when it starts (rpms.documents.rendering.warm_up: fonts found and loaded,
# WeasyPrint and the URLconf imported), so no user waits for the first document of a worker (issue #15).
pdf_warmup = os.environ.get("RPMS_PDF_WARMUP", "1").strip().lower() not in ("0", "false", "no", "off", "")


def post_worker_init(worker):
    if not pdf_warmup:
        return
    try:
        from rpms.documents.rendering import warm_up

        worker.log.info("PDF rendering warmed up in %.0f ms", warm_up())
    except Exception:  # noqa: BLE001 — a failed warm-up must not stop the worker; the first render then pays
        worker.log.exception("PDF warm-up failed")
