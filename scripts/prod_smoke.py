"""The checks of scripts/prod-smoke.sh, run against the production stack it started (nginx → gunicorn with 3
workers → PostgreSQL and Redis, plus the RQ worker), all on loopback. Every act goes through nginx over TLS,
each request on a fresh connection; the database is read only to find what to ask for (ids, stored paths)
and to confirm what the acts did.

Prints one PASS/FAIL line per check and exits 1 if any failed. Not a pytest module: it needs the running
stack, whose addresses and log files come from the environment set by prod-smoke.sh:
SMOKE_HTTPS_PORT, SMOKE_HTTP_PORT, SMOKE_CA, SMOKE_GUNICORN_LOG, SMOKE_WORKER_LOG, SMOKE_NGINX_ACCESS_LOG,
SMOKE_SMTP_PORT, SMOKE_MAILDIR, SMOKE_PID_DIR, SMOKE_PYTHON (and the application's own variables).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import io
import json
import mailbox
import os
import re
import secrets
import ssl
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: config, rpms

DEMO_PASSWORD = "Rpms-demo-2026"  # seed_demo's accounts (README "演示账号"); the smoke's database is thrown away

HTTPS_PORT = int(os.environ["SMOKE_HTTPS_PORT"])
HTTP_PORT = int(os.environ["SMOKE_HTTP_PORT"])
TLS = ssl.create_default_context(cafile=os.environ["SMOKE_CA"])
GUNICORN_LOG = Path(os.environ["SMOKE_GUNICORN_LOG"])
WORKER_LOG = Path(os.environ["SMOKE_WORKER_LOG"])
NGINX_LOG = Path(os.environ["SMOKE_NGINX_ACCESS_LOG"])
SMTP_PORT = int(os.environ["SMOKE_SMTP_PORT"])
MAILDIR = Path(os.environ["SMOKE_MAILDIR"])
PID_DIR = Path(os.environ["SMOKE_PID_DIR"])
PYTHON = os.environ.get("SMOKE_PYTHON", sys.executable)

RUN = uuid.uuid4().hex[:8]  # marks this run's requests in the logs: ?smoke=<RUN>-<tag>
results: list[tuple[str, bool, str]] = []


# --- plumbing ----------------------------------------------------------------------------------------------

class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return {}

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


def call(method: str, path: str, *, tag: str = "", body: bytes | None = None, headers: dict | None = None,
         token: str = "", source: str = "127.0.0.1", scheme: str = "https") -> Answer:
    """One request through nginx on a new connection (so gunicorn's workers share the load), from the given
    loopback source address (nginx sees it as the client's address)."""
    if tag:
        path += ("&" if "?" in path else "?") + f"smoke={RUN}-{tag}"
    if scheme == "https":
        conn = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=TLS, timeout=60, source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=60, source_address=(source, 0))
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def post_json(path: str, data: dict, *, headers: dict | None = None, **kwargs) -> Answer:
    headers = {"Content-Type": "application/json", **(headers or {})}
    return call("POST", path, body=json.dumps(data).encode(), headers=headers, **kwargs)


def multipart(fields: dict, files: dict | None = None) -> tuple[bytes, str]:
    boundary = "smoke" + secrets.token_hex(12)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in (files or {}).items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_form(path: str, fields: dict, files: dict | None = None, *, headers: dict | None = None, **kwargs) -> Answer:
    body, content_type = multipart(fields, files)
    return call("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})}, **kwargs)


def together(calls) -> list[Answer]:
    """Runs the calls at the same moment, each on its own connection (and so, on busy sync workers, each
    on a different gunicorn worker where possible)."""
    answers: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, fn):
        barrier.wait()
        try:
            answers[i] = fn()
        except Exception as exc:  # noqa: BLE001 - reported as this call's answer
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def log_lines(path: Path, marker: str, *, wait: float = 0.0) -> list[str]:
    """The lines of a log that contain marker; waits up to `wait` seconds for the first (logs lag the answer)."""
    deadline = time.monotonic() + wait
    while True:
        text = path.read_text("utf-8", "replace") if path.exists() else ""
        lines = [line for line in text.splitlines() if marker in line]
        if lines or time.monotonic() >= deadline:
            return lines
        time.sleep(0.1)


def worker_pids(tag_prefix: str, count: int) -> set[str]:
    """The gunicorn worker pids (access log, %(p)s) that served this run's `count` requests tagged tag_prefix*."""
    deadline = time.monotonic() + 3  # the access log line is written after the response
    while len(lines := log_lines(GUNICORN_LOG, f"smoke={RUN}-{tag_prefix}")) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = set()
    for line in lines:
        found = re.search(r"pid=<?(\d+)>?", line)
        if found:
            pids.add(found.group(1))
    return pids


def one_time_code(username: str) -> str:
    """Production asks staff for a second factor (issue 16: RPMS_REQUIRE_2FA): the smoke gives the demo account
    an authenticator and a recovery code of its own in the database (the smoke's database is thrown away), and
    sends that code as `otp`. Accounts that need no second factor ignore it."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from rpms.accounts.models import User

    user = User.objects.get(username=username)
    TOTPDevice.objects.get_or_create(user=user, name="smoke", defaults={"confirmed": True})
    device, _ = StaticDevice.objects.get_or_create(user=user, name="smoke", defaults={"confirmed": True})
    return device.token_set.create(token=StaticToken.random_token()).token


def token_for(username: str) -> str:
    answer = post_json("/api/v1/auth/token",
                       {"username": username, "password": DEMO_PASSWORD, "otp": one_time_code(username)},
                       tag=f"login-{username}")
    if answer.status != 200:
        raise RuntimeError(f"cannot log in as {username}: {answer!r}")
    return answer.json()["token"]


def check(name: str):
    def wrap(fn):
        def run():
            started = time.monotonic()
            try:
                detail = fn() or ""
                ok = True
            except AssertionError as exc:
                ok, detail = False, str(exc)
            except Exception as exc:  # noqa: BLE001 - a crash is a failure of this check, the others still run
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            took = time.monotonic() - started
            results.append((name, ok, detail))
            print(f"{'PASS' if ok else 'FAIL'}  {name} ({took:.1f}s){': ' + detail if detail else ''}", flush=True)
        return run
    return wrap


def png(seed: bytes) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (48, 32), (hashlib.sha256(seed).digest() * 300)[: 48 * 32 * 3])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- the checks --------------------------------------------------------------------------------------------

@check("a. health through nginx (TLS), HTTP redirected to HTTPS, static file served by nginx")
def health():
    answer = call("GET", "/api/v1/health", tag="health")
    assert answer.status == 200 and answer.json() == {"status": "ok", "database": "ok"}, f"health: {answer!r}"
    assert "max-age=" in (answer.headers.get("Strict-Transport-Security") or ""), "no HSTS header from Django"
    plain = call("GET", "/api/v1/health", scheme="http")
    location = plain.headers.get("Location") or ""
    assert plain.status == 301 and location.startswith("https://"), f"HTTP answered {plain.status} {location!r}"
    manifest = json.loads((Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").read_text())
    original, hashed = sorted(manifest["paths"].items())[0]
    static = call("GET", f"/static/{hashed}", tag="static")
    expected = (Path(os.environ["STATIC_ROOT"]) / hashed).read_bytes()
    assert static.status == 200 and static.body == expected, f"/static/{hashed}: {static.status}"
    assert "max-age=2592000" in (static.headers.get("Cache-Control") or ""), "no 30-day expiry from nginx's /static/"
    time.sleep(0.3)
    assert not log_lines(GUNICORN_LOG, f"smoke={RUN}-static"), "the static file was served by gunicorn"
    return f"{answer.json()}; http → {location}; /static/{hashed} ({len(expected)} bytes) by nginx, not gunicorn"


@check("b. login lockout holds when the 5 failures are spread over the gunicorn workers")
def lockout():
    username = "auditor"
    first = post_json("/api/v1/auth/token",
                      {"username": username, "password": DEMO_PASSWORD, "otp": one_time_code(username)}, tag="b-ok")
    assert first.status == 200, f"the right password should work before the failures: {first!r}"
    failures = together([
        (lambda i=i: post_json("/api/v1/auth/token", {"username": username, "password": f"wrong-{i}-{RUN}"},
                               tag=f"b-fail{i}"))
        for i in range(5)
    ])
    statuses = [getattr(a, "status", repr(a)) for a in failures]
    assert all(s == 401 for s in statuses), f"failed logins answered {statuses}"
    pids = worker_pids("b-fail", 5)
    assert len(pids) >= 2, f"the 5 failures were served by {len(pids)} worker(s) {sorted(pids)}; need 2 or more"
    locked = post_json("/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD}, tag="b-locked")
    body = locked.json()
    message = body.get("detail") or body.get("message") or ""
    # Issue 16 item 6: a locked account gets the answer of any failed login (nothing tells it is locked).
    assert locked.status == 401 and body.get("code") == "invalid_credentials", f"right password after 5 failures: {locked!r}"
    assert message == "用户名或密码错误，或账户已被临时锁定", f"not the one failure message: {body}"
    from rpms.accounts.models import User

    assert User.objects.get(username=username).is_locked(), "the account was not locked after 5 failures"
    return (f"failures served by workers {sorted(pids)}; "
            f"then the right password → {locked.status} {body['code']}: {message}")


def _suggestion_unit():
    from rpms.geography.models import ResponsibilityUnit

    unit = (ResponsibilityUnit.objects.filter(dissolved_at__isnull=True, district__code="110108")
            .order_by("pk").first())
    assert unit is not None, "no active Haidian unit in the demo data"
    return unit


def _suggestion(unit_id: int, source: str, tag: str, n: int, **headers) -> Answer:
    return post_json(f"/api/v1/public/units/{unit_id}/suggestions",
                     {"category": "suggestion", "content": f"冒烟测试：建议在小区门口增设自行车停放区（第 {n} 条）。"},
                     tag=tag, source=source, headers=headers)


@check("c. suggestion rate limit (5 per 10 minutes per client address) holds across workers")
def suggestion_limit():
    from rpms.suggestions.throttle import submit_rate

    limit, window = submit_rate()
    # A fixed window: keep the burst inside one.
    if window - time.time() % window < 10:
        time.sleep(window - time.time() % window + 0.5)
    burst = limit + 2
    unit_id = _suggestion_unit().pk
    answers = together([(lambda i=i: _suggestion(unit_id, "127.0.0.1", f"c{i}", i)) for i in range(burst)])
    statuses = sorted((getattr(a, "status", repr(a)) for a in answers), key=str)
    assert statuses == [201] * limit + [429] * 2, f"{burst} simultaneous submissions answered {statuses}"
    refused = next(a for a in answers if a.status == 429).json()
    assert "提交过于频繁" in (refused.get("detail") or ""), f"no Chinese refusal: {refused}"
    pids = worker_pids("c", burst)
    assert len(pids) >= 2, f"the submissions were served by {len(pids)} worker(s); need 2 or more"
    forged = _suggestion(unit_id, "127.0.0.1", "c-forged", 99,
                         **{"X-Real-IP": "10.9.8.7", "X-Forwarded-For": "10.9.8.7"})
    assert forged.status == 429, f"a forged X-Real-IP escaped the limit: {forged!r}"
    other = _suggestion(unit_id, "127.0.0.3", "c-other", 100)
    assert other.status == 201, f"another client address was refused too: {other!r}"
    return (f"{burst} at once → {statuses.count(201)}×201, {statuses.count(429)}×429 over workers {sorted(pids)}; "
            f"a forged X-Real-IP still 429; client 127.0.0.3 → 201")


@check("d. private file sent by nginx through X-Accel-Redirect after Django checked the permission")
def private_file():
    from django.conf import settings

    from rpms.suggestions.models import Suggestion

    picture = png(RUN.encode())
    unit = _suggestion_unit()
    body, content_type = multipart(
        {"category": "problem", "content": "冒烟测试：路灯损坏，附照片。"}, {"photos": ("路灯.png", picture, "image/png")})
    submitted = call("POST", f"/api/v1/public/units/{unit.pk}/suggestions", body=body, tag="d-submit",
                     headers={"Content-Type": content_type}, source="127.0.0.2")
    assert submitted.status == 201, f"suggestion with a photo: {submitted!r}"
    suggestion = Suggestion.objects.get(tracking_code=submitted.json()["tracking_code"])
    photo = suggestion.photos.get()
    on_disk = (Path(settings.PRIVATE_MEDIA_ROOT) / photo.path).read_bytes()
    assert on_disk == picture, "the stored photo differs from the upload"
    url = f"/api/v1/suggestions/{suggestion.pk}/photos/{photo.pk}"

    owner = call("GET", url, tag="d-entitled", token=token_for("district_haidian"))
    assert owner.status == 200, f"the district officer of the unit: {owner!r}"
    assert owner.body == on_disk, f"got {len(owner.body)} bytes, the file has {len(on_disk)}"
    assert "X-Accel-Redirect" not in owner.headers, "nginx let X-Accel-Redirect through to the client"
    assert (owner.headers.get("Content-Type") or "").startswith("image/png"), owner.headers.get("Content-Type")
    assert "attachment" in (owner.headers.get("Content-Disposition") or ""), "Django's Content-Disposition was lost"
    assert owner.headers.get("X-Content-Type-Options") == "nosniff", "no nosniff on the private file"
    assert "sandbox" in (owner.headers.get("Content-Security-Policy") or ""), "no sandboxing CSP on the private file"
    lines = log_lines(NGINX_LOG, f"smoke={RUN}-d-entitled", wait=3)
    expected = f'xa="/_private/{photo.path}"'
    assert lines and expected in lines[-1], f"Django's answer had no X-Accel-Redirect to the file: {lines}"
    app_lines = log_lines(GUNICORN_LOG, f"smoke={RUN}-d-entitled", wait=3)
    found = re.search(r'" 200 (\S+) ', app_lines[-1]) if app_lines else None
    app_bytes = found.group(1) if found else f"? ({app_lines})"
    assert app_bytes in ("0", "-"), f"gunicorn sent {app_bytes} bytes itself"

    ranged = call("GET", url, tag="d-range", token=token_for("district_haidian"), headers={"Range": "bytes=0-9"})
    assert ranged.status == 206 and ranged.body == on_disk[:10], f"Range request: {ranged.status}"

    direct = call("GET", f"/_private/{photo.path}", tag="d-direct")
    assert direct.status == 404, f"direct GET of the internal location: {direct.status}"
    stranger = call("GET", url, tag="d-stranger", token=token_for("district_chaoyang"))
    assert stranger.status in (403, 404) and on_disk not in stranger.body, f"another district's officer: {stranger}"
    anonymous = call("GET", url, tag="d-anonymous")
    assert anonymous.status == 401, f"anonymous: {anonymous!r}"
    return (f"district_haidian → 200, {len(on_disk)} bytes equal to the file, via {expected}, "
            f"gunicorn body {app_bytes}; Range → 206; GET /_private/… → 404; district_chaoyang → {stranger.status}; "
            "anonymous → 401")


def _start_smtp_sink() -> subprocess.Popen:
    mailbox.Maildir(str(MAILDIR), create=True)  # the folder with its tmp/, new/ and cur/
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{SMTP_PORT}",
         "-c", "aiosmtpd.handlers.Mailbox", str(MAILDIR)],
        stdout=open(PID_DIR.parent / "logs" / "smtp.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    (PID_DIR / "smtp.pid").write_text(str(sink.pid))
    return sink


def _mail_to(address: str) -> list:
    if not MAILDIR.exists():
        return []
    found = []
    box = mailbox.Maildir(str(MAILDIR), create=False)
    for key in box.keys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


@check("e. e-mail delivered by the worker to a local SMTP sink after the sink was down for the first attempt")
def email_retry():
    from rpms.notifications.models import Notification
    from rpms.registry.models import Planner

    planner = Planner.objects.select_related("user").get(user__username="planner_demo")
    address = planner.user.email
    assert address, "planner_demo has no e-mail address"
    offset = WORKER_LOG.stat().st_size if WORKER_LOG.exists() else 0
    title = f"冒烟测试培训 {RUN}"
    created = post_form("/api/v1/training/records", {
        "planner": planner.pk, "source": "external", "title": title,
        "date": dt.date.today().isoformat(), "hours": "2",
    }, tag="e-act", token=token_for("city_admin"))
    assert created.status == 201, f"city_admin records training hours for planner_demo: {created!r}"
    note = Notification.objects.get(recipient=planner.user, key=f"training.credited:{created.json()['id']}")

    # The sink is down: wait for the worker's first attempt to fail (recorded on the notification, logged).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        note.refresh_from_db()
        if note.email_attempts >= 1:
            break
        time.sleep(0.2)
    assert note.email_attempts >= 1, "the worker made no attempt within 60 s (is it running? see the worker log)"
    assert note.emailed_at is None and note.email_error, f"the first attempt should have failed: {note.email_error!r}"
    text = WORKER_LOG.read_bytes()[offset:].decode("utf-8", "replace") if WORKER_LOG.exists() else ""
    assert re.search(r"Connection refused|ConnectionRefusedError", text), "the worker log shows no refused connection"
    failure = note.email_error
    failed_at = time.monotonic()

    _start_smtp_sink()
    deadline = time.monotonic() + 90
    messages = []
    while time.monotonic() < deadline and not messages:
        messages = [m for m in _mail_to(address) if "继续教育学时" in str(m["Subject"])]
        time.sleep(0.3)
    assert messages, f"no e-mail to {address} reached the sink within 90 s of its start"
    delivered_after = time.monotonic() - failed_at
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and note.emailed_at is None:
        time.sleep(0.2)
        note.refresh_from_db()
    assert note.emailed_at is not None, "delivered but not marked e-mailed"
    subject = str(messages[0]["Subject"]).strip()
    return (f"attempt 1 failed ({failure[:80]}); sink started; “{subject}” delivered to {address} "
            f"{delivered_after:.1f}s later, on attempt {note.email_attempts}")


def main() -> int:
    import django

    django.setup()
    for run in (health, lockout, suggestion_limit, private_file, email_retry):
        run()
    failed = [name for name, ok, _ in results if not ok]
    print(f"prod-smoke checks: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
