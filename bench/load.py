#!/usr/bin/env python
"""Load benchmark (issue #13 item 7): a mixed workload against gunicorn on PostgreSQL. Prints figures; not a test.

    .venv/bin/python bench/load.py                          # 50 clients, 60 s per phase, 3 gunicorn workers
    .venv/bin/python bench/load.py --clients 20 --seconds 30

It starts everything it needs and stops it at the end: without a PostgreSQL DATABASE_URL it runs itself again
under scripts/with-postgres.sh (a throwaway PostgreSQL 15 cluster on 127.0.0.1); it migrates the database,
loads the demo data (`manage.py seed_demo`), starts gunicorn (sync workers, as deploy/ runs it, but bound to
127.0.0.1 without nginx) with bench/load_settings.py, and drives it from this process with CLIENTS threads,
each on its own connection per request, every request on 127.0.0.1.

Phase 1, the mixed workload — each client picks its next request at random with these weights:
- find my planner: the public page (GET /find/?q=…) and the public unit API (GET /api/v1/public/units/{id});
- unit pages: the public page of a unit with its residents' suggestions (GET /suggestions/units/{id}/);
- residents' suggestions: anonymous submissions (POST /api/v1/public/units/{id}/suggestions → 201);
- staff lists as the Haidian district officer: appointments and suggestions (API, bearer token) and the
  suggestions page (session);
- a matching run as Beijing's city administrator over the demo's accepted dispatch requests
  (POST /api/v1/cities/beijing/matching → 201).
Phase 2: the same clients for the same time on /bench/minimal/, a Django view that answers the bytes of the
find-my-planner page and does nothing else (bench/load_urls.py).

For each endpoint: requests, throughput (requests per second of the phase), latency p50/p95/p99 and max
(from opening the connection to the last byte), and errors: any answer other than the expected status
(5xx, unexpected 4xx) or a failed connection. Exits 1 if there was an error.

On an EMPTY PostgreSQL database of your own: DATABASE_URL=postgresql://… .venv/bin/python bench/load.py
--disposable-database (it refuses a database that already has tables unless told so).
"""
from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS = "bench.load_settings"
DEMO_PASSWORD = "Rpms-demo-2026"  # rpms.portal.management.commands.seed_demo
REQUEST_TIMEOUT = 120

# endpoint → weight in the mixed workload
MIX = {
    "find_page": 22,
    "find_unit_api": 14,
    "unit_page": 16,
    "suggestion_submit": 12,
    "staff_appointments_api": 12,
    "staff_suggestions_api": 12,
    "staff_suggestions_page": 10,
    "matching_run": 2,
}
EXPECTED = {"suggestion_submit": 201, "matching_run": 201}


def _postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, tmp: Path):
        self.args = args
        self.tmp = tmp
        self.port = _free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "RPMS_VAR_DIR": str(tmp / "var"),
                    "RPMS_BENCH_MINIMAL_BODY": str(tmp / "find-page.html"), "PYTHONUNBUFFERED": "1"}
        self.process = None
        self.log_path = tmp / "gunicorn.log"

    def manage(self, *command: str) -> float:
        began = time.monotonic()
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=BASE_DIR, env=self.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"manage.py {' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return time.monotonic() - began

    def query(self, code: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=BASE_DIR, env=self.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"manage.py shell failed:\n{done.stderr[-4000:]}")
        return done.stdout

    def start(self):
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(self.args.workers), "--worker-class", "sync",
                    "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "--backlog", "2048",
                    "--log-level", "warning", "config.wsgi"]
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(gunicorn, cwd=BASE_DIR, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited with {self.process.returncode}:\n{self.log_path.read_text()[-4000:]}")
            try:
                if self.request("GET", "/api/v1/health", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        sys.exit(f"gunicorn did not answer within 90 s:\n{self.log_path.read_text()[-4000:]}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        if self.process is not None:
            self.log.close()

    def request(self, method, path, *, body=None, headers=None, timeout=REQUEST_TIMEOUT):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


# --- the workload -------------------------------------------------------------------------------------------------


class Workload:
    def __init__(self, server: Server, facts: dict, officer_token: str, admin_token: str, officer_cookie: str):
        self.server = server
        self.facts = facts
        self.officer = {"Authorization": f"Bearer {officer_token}"}
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.officer_cookie = {"Cookie": officer_cookie}

    def request_for(self, endpoint: str, rng: random.Random):
        """(method, path, body, headers) of one request to `endpoint`."""
        f = self.facts
        if endpoint == "find_page":
            return "GET", "/find/?" + urllib.parse.urlencode({"q": rng.choice(f["terms"])}), None, {}
        if endpoint == "find_unit_api":
            return "GET", f"/api/v1/public/units/{rng.choice(f['served_units'])}", None, {}
        if endpoint == "unit_page":
            return "GET", f"/suggestions/units/{rng.choice(f['units'])}/", None, {}
        if endpoint == "suggestion_submit":
            body = json.dumps({"category": rng.choice(["suggestion", "problem"]),
                               "content": "建议在小区门口增设非机动车停放区，方便居民出行（压力测试）。"}, ensure_ascii=False)
            return ("POST", f"/api/v1/public/units/{rng.choice(f['units'])}/suggestions", body.encode(),
                    {"Content-Type": "application/json"})
        if endpoint == "staff_appointments_api":
            return "GET", "/api/v1/appointments", None, self.officer
        if endpoint == "staff_suggestions_api":
            return "GET", "/api/v1/suggestions", None, self.officer
        if endpoint == "staff_suggestions_page":
            return "GET", "/suggestions/manage/", None, self.officer_cookie
        if endpoint == "matching_run":
            return "POST", "/api/v1/cities/beijing/matching", b"{}", {**self.admin, "Content-Type": "application/json"}
        if endpoint == "minimal_view":
            return "GET", "/bench/minimal/", None, {}
        raise ValueError(endpoint)


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = collections.defaultdict(list)
        self.errors = collections.Counter()
        self.error_kinds = collections.Counter()
        self.samples = {}

    def record(self, endpoint, seconds, ok, kind=None, sample=None):
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if not ok:
                self.errors[endpoint] += 1
                self.error_kinds[(endpoint, kind)] += 1
                self.samples.setdefault((endpoint, kind), sample)


def run_phase(server: Server, workload: Workload, endpoints: dict, clients: int, seconds: float) -> tuple[Recorder, float]:
    recorder = Recorder()
    names, weights = list(endpoints), list(endpoints.values())
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(index):
        rng = random.Random(index)
        start_gate.wait()
        while time.monotonic() < stop_at[0]:
            endpoint = rng.choices(names, weights)[0]
            method, path, body, headers = workload.request_for(endpoint, rng)
            began = time.monotonic()
            try:
                status, _, content = server.request(method, path, body=body, headers=headers)
            except OSError as exc:
                recorder.record(endpoint, time.monotonic() - began, False, type(exc).__name__, str(exc))
                continue
            expected = EXPECTED.get(endpoint, 200)
            recorder.record(endpoint, time.monotonic() - began, status == expected, status,
                            content[:300].decode("utf-8", "replace"))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.monotonic()
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 30)
    return recorder, time.monotonic() - began


def _percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def print_table(title: str, recorder: Recorder, wall: float):
    print(f"\n{title} ({wall:.1f} s)")
    header = f"{'endpoint':<24} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    print(header)
    print("-" * len(header))
    rows = sorted(recorder.latencies.items())
    total = []
    for endpoint, values in rows:
        values = sorted(values)
        total.extend(values)
        print(f"{endpoint:<24} {len(values):>8} {len(values) / wall:>7.1f} {_percentile(values, 50) * 1000:>8.0f} "
              f"{_percentile(values, 95) * 1000:>8.0f} {_percentile(values, 99) * 1000:>8.0f} {values[-1] * 1000:>8.0f} "
              f"{recorder.errors[endpoint]:>6}")
    if len(rows) > 1:
        total.sort()
        print(f"{'all':<24} {len(total):>8} {len(total) / wall:>7.1f} {_percentile(total, 50) * 1000:>8.0f} "
              f"{_percentile(total, 95) * 1000:>8.0f} {_percentile(total, 99) * 1000:>8.0f} {total[-1] * 1000:>8.0f} "
              f"{sum(recorder.errors.values()):>6}")
    for (endpoint, kind), count in sorted(recorder.error_kinds.items(), key=str):
        print(f"  error: {endpoint} → {kind} × {count}: {recorder.samples[(endpoint, kind)]!r}")


# --- setting up -----------------------------------------------------------------------------------------------------

FACTS = r"""
import json
from rpms.appointments.models import Appointment
from rpms.geography.models import ResponsibilityUnit
units = list(ResponsibilityUnit.objects.filter(dissolved_at__isnull=True).values_list("id", "name"))
served = sorted(set(Appointment.objects.values_list("unit_id", flat=True)))
print("FACTS" + json.dumps({"units": [u for u, _ in units], "served_units": served or [u for u, _ in units],
                            "names": [n for _, n in units]}, ensure_ascii=False))
"""


def facts_of(server: Server) -> dict:
    out = server.query(FACTS)
    facts = json.loads(out[out.index("FACTS") + 5:].strip())
    rng = random.Random(7)
    # What residents type: a unit's name, part of it, a district, a street; some find nothing.
    names = facts["names"]
    terms = rng.sample(names, min(20, len(names))) + [n[:2] for n in rng.sample(names, min(10, len(names)))]
    terms += ["海淀", "朝阳", "新华区", "卫东", "责任规划师", "不存在的地方"]
    facts["terms"] = terms
    return facts


def _database_is_empty() -> bool:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()[0] == 0


def token(server: Server, username: str) -> str:
    status, _, content = server.request("POST", "/api/v1/auth/token", headers={"Content-Type": "application/json"},
                                        body=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode())
    if status != 200:
        sys.exit(f"login of {username} failed: {status} {content[:300]!r}")
    return json.loads(content)["token"]


def page_session(server: Server, username: str) -> str:
    import http.cookies

    def cookies(headers):
        jar = http.cookies.SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar.load(value)
        return {k: m.value for k, m in jar.items()}

    status, headers, page = server.request("GET", "/accounts/login/")
    jar = cookies(headers)
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "username": username, "password": DEMO_PASSWORD})
    status, headers, _ = server.request("POST", "/accounts/login/", body=form.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    if status != 302:
        sys.exit(f"page login of {username} failed: {status}")
    jar.update(cookies(headers))
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase (default 60)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--disposable-database", action="store_true",
                        help="use DATABASE_URL even if it already has tables (the demo data is added to it)")
    args = parser.parse_args()

    if not _postgres(os.environ.get("DATABASE_URL", "")):
        if os.environ.get("RPMS_BENCH_LOAD_CHILD"):
            sys.exit("with-postgres.sh gave no PostgreSQL DATABASE_URL")
        os.environ["RPMS_BENCH_LOAD_CHILD"] = "1"
        script = BASE_DIR / "scripts" / "with-postgres.sh"
        return subprocess.call([str(script), sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    if not args.disposable_database and not _database_is_empty():
        sys.exit("DATABASE_URL names a database that already has tables; use an empty one or --disposable-database")

    tmp = Path(tempfile.mkdtemp(prefix="rpms-load-"))
    server = Server(args, tmp)
    try:
        print(f"load benchmark: {args.clients} clients, {args.seconds:.0f} s per phase, gunicorn {args.workers} sync "
              f"workers on 127.0.0.1, PostgreSQL; {os.cpu_count()} CPU cores, load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"migrate: {server.manage('migrate', '--noinput'):.1f} s", flush=True)
        print(f"seed_demo: {server.manage('seed_demo'):.1f} s", flush=True)
        facts = facts_of(server)
        server.start()
        workload = Workload(server, facts, token(server, "district_haidian"), token(server, "city_admin"),
                            page_session(server, "district_haidian"))
        # The minimal view answers the bytes of one find-my-planner page (a search that finds a unit).
        status, _, page = server.request("GET", "/find/?" + urllib.parse.urlencode({"q": facts["terms"][0]}))
        assert status == 200, status
        (tmp / "find-page.html").write_bytes(page)
        status, _, same = server.request("GET", "/bench/minimal/")
        assert status == 200 and same == page, "the minimal view does not answer the page's bytes"
        # Warm-up: every endpoint once, each must answer as expected before anything is measured.
        rng = random.Random(0)
        for endpoint in [*MIX, "minimal_view"]:
            method, path, body, headers = workload.request_for(endpoint, rng)
            status, _, content = server.request(method, path, body=body, headers=headers)
            if status != EXPECTED.get(endpoint, 200):
                sys.exit(f"warm-up: {endpoint} {method} {path} answered {status}: {content[:500]!r}")
        print(f"{len(facts['units'])} units ({len(facts['served_units'])} with a planner), find-my-planner page "
              f"{len(page):,} bytes; warm-up done", flush=True)

        mixed, mixed_wall = run_phase(server, workload, MIX, args.clients, args.seconds)
        print_table(f"mixed workload, {args.clients} clients", mixed, mixed_wall)
        minimal, minimal_wall = run_phase(server, workload, {"minimal_view": 1}, args.clients, args.seconds)
        print_table(f"minimal Django view with the find-my-planner page's bytes, {args.clients} clients",
                    minimal, minimal_wall)
        errors = sum(mixed.errors.values()) + sum(minimal.errors.values())
        log = server.log_path.read_text(errors="replace").strip()
        if log:
            print("\ngunicorn log (last lines):\n" + "\n".join(log.splitlines()[-20:]))
        print(f"\nerrors: {errors}")
        return 1 if errors else 0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
