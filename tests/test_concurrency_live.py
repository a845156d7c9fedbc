"""The server under ordinary concurrency (issue #13 item 1): a REAL server process — `manage.py runserver
--noreload`, threaded, with the development settings, as `make run` serves — on its own database, driven over
real HTTP by real threads.

- SQLite (the embedded default): the server runs on a FILE database (the in-memory test database copied with
  SQLite's online backup API: the schema of every migration, in a second instead of a fresh `migrate`), so
  its connections are as `make run` makes them — IMMEDIATE transactions, WAL, the writers of the process
  queued first come first served (rpms.core.sqlite), a 20 s busy timeout.
- PostgreSQL (DATABASE_URL set): the server runs on a database created for the test from the test database
  as template, dropped afterwards.

The data (a Haidian district officer, hiring entities, planners serving their units, a planner with eight
pending proposals, pool members without a unit, API tokens) is made by tests/live_setup.py in the server's
environment, through the services and rpms/testing/builders.py.

1. The unit cap (B19(2)) under concurrency: eight simultaneous approvals of proposals of one planner (cap 3)
   give exactly three 201s and five 409 `unit_cap_reached`, never a 5xx, and the planner holds three units.
2. WRITERS threads for SECONDS seconds, each from its own loopback address (the rate limits count per client
   address), writing a mix of ordinary writes: residents' suggestions (anonymous API and page form), duty
   records by planners (API), logins (API token and page login), proposals by hiring entities and their
   approval by the district (appointments). Every answer is below 500, and every accepted write (2xx, or the
   page's redirect) is found in the database afterwards by its id, code, token digest or session key. Rate
   limits refusing some writes with 429 is right and expected.

A server that does not start fails the test (never skips it). Runs in `make test` on both databases.
"""
import collections
import http.client
import http.cookies
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from django.db import connection, connections

BASE_DIR = Path(__file__).resolve().parent.parent
WRITERS = 20
SECONDS = float(os.environ.get("RPMS_LIVE_SECONDS", "30"))
START_TIMEOUT = 90
REQUEST_TIMEOUT = 90

# The database mark makes pytest-django create the test database this module copies; the tests themselves
# read only the server's database, through their own connections.
pytestmark = pytest.mark.django_db


# --- the server's database ---------------------------------------------------------------------------------------


class LiveDatabase:
    """A database for the server process: a copy of the migrated test database."""

    def __init__(self, tmp: Path):
        self.vendor = connection.vendor
        connection.ensure_connection()
        if self.vendor == "sqlite":
            self.path = tmp / "live.sqlite3"
            target = sqlite3.connect(self.path)
            connection.connection.backup(target)
            target.close()
            self.url = f"sqlite:///{self.path}"
        elif self.vendor == "postgresql":
            import psycopg

            settings = connection.settings_dict
            self.template = settings["NAME"]
            self.name = f"{self.template}_live_{os.getpid()}"[:63]
            self.params = {"host": settings["HOST"] or "localhost", "port": settings["PORT"] or 5432,
                           "user": settings["USER"], "password": settings["PASSWORD"] or None}
            connections.close_all()  # CREATE DATABASE … TEMPLATE wants no session on the template
            with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                for attempt in range(40):
                    try:
                        admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
                        break
                    except psycopg.errors.ObjectInUse:  # a closed session may take a moment to end
                        if attempt == 39:
                            raise
                        time.sleep(0.25)
            auth = urllib.parse.quote(self.params["user"] or "", safe="")
            if self.params["password"]:
                auth += ":" + urllib.parse.quote(self.params["password"], safe="")
            self.url = f"postgresql://{auth}@{self.params['host']}:{self.params['port']}/{self.name}"
        else:  # pragma: no cover
            pytest.fail(f"no live concurrency test for the {self.vendor} backend")

    def rows(self, sql: str, params=()) -> list[tuple]:
        if self.vendor == "sqlite":
            con = sqlite3.connect(self.path, timeout=30)
            try:
                return con.execute(sql.replace("%s", "?"), params).fetchall()
            finally:
                con.close()
        import psycopg

        with psycopg.connect(dbname=self.name, **self.params) as con:
            return con.execute(sql, params).fetchall()

    def present(self, table: str, column: str, values) -> set:
        values = list(values)
        found = set()
        for i in range(0, len(values), 500):
            chunk = values[i:i + 500]
            marks = ", ".join(["%s"] * len(chunk))
            found |= {row[0] for row in self.rows(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", chunk)}
        return found

    def drop(self):
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- the server ----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    def __init__(self, db: LiveDatabase, tmp: Path):
        self.db = db
        self.tmp = tmp
        self.port = _free_port()
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db.url,
            "RPMS_VAR_DIR": str(tmp / "var"), "PYTHONUNBUFFERED": "1",
        }
        self.log_path = tmp / "server.log"
        self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def setup_data(self) -> dict:
        out = self.tmp / "data.json"
        done = subprocess.run([sys.executable, "-m", "tests.live_setup", str(out)], cwd=BASE_DIR, env=self.env,
                              capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            pytest.fail(f"tests/live_setup.py failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        return json.loads(out.read_text(encoding="utf-8"))

    def start(self):
        # As `make run` serves (`make serve`), without the autoreloader: threaded, one request per thread.
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                status, _, _ = self.request("GET", "/api/v1/health", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"the server did not answer /api/v1/health within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self.process is not None:
            self.log.close()

    def request(self, method: str, path: str, *, body=None, headers=None, source: str | None = None,
                timeout: float = REQUEST_TIMEOUT):
        """One request on its own connection → (status, headers as a list, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    began = time.monotonic()
    with django_db_blocker.unblock():
        db = LiveDatabase(tmp)
    server = Live(db, tmp)
    try:
        copied = time.monotonic()
        server.data = server.setup_data()
        filled = time.monotonic()
        server.start()
        print(f"live server on {db.vendor}: database copied in {copied - began:.1f} s, data made in "
              f"{filled - copied:.1f} s, server answering after {time.monotonic() - filled:.1f} s")
        yield server
    finally:
        server.stop()
        with django_db_blocker.unblock():
            db.drop()


# --- clients -------------------------------------------------------------------------------------------------------


def _cookies(headers) -> dict:
    jar = http.cookies.SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar.load(value)
    return {key: morsel.value for key, morsel in jar.items()}


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1).decode()


class Writer:
    """One client: its own loopback address, its own choice of writes; records every answer and every
    accepted write's key."""

    MIX = [("duty_record", 30), ("suggestion_api", 20), ("suggestion_page", 10), ("proposal", 15),
           ("token_login", 10), ("page_login", 10), ("read", 5)]

    def __init__(self, live: Live, index: int, pairs, stats, lock):
        self.live = live
        self.data = live.data
        self.source = f"127.0.0.{10 + index}"
        self.rng = random.Random(index)
        self.pairs = pairs
        self.stats = stats
        self.lock = lock
        self.n = 0

    def call(self, op: str, method: str, path: str, *, body=None, headers=None):
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        began = time.monotonic()
        try:
            status, response_headers, content = self.live.request(method, path, body=body, headers=headers,
                                                                  source=self.source)
        except OSError as exc:  # refused, reset, timed out: as bad as a 5xx
            with self.lock:
                self.stats["answers"][(op, f"error:{type(exc).__name__}")] += 1
                self.stats["failures"].append(f"{op} {method} {path}: {type(exc).__name__}: {exc}")
            return None, [], b""
        took = time.monotonic() - began
        with self.lock:
            self.stats["answers"][(op, status)] += 1
            self.stats["slowest"][op] = max(self.stats["slowest"][op], took)
            if status >= 500:
                self.stats["failures"].append(f"{op} {method} {path}: {status} {content[:300]!r}")
        return status, response_headers, content

    def accepted(self, kind: str, key):
        with self.lock:
            self.stats["accepted"][kind].append(key)

    # the writes ---------------------------------------------------------------------------------------------------

    def duty_record(self):
        planner = self.rng.choice(self.data["duty"])
        date = _days_ago(self.data["today"], self.rng.randint(0, 6))
        status, _, content = self.call("duty_record", "POST", "/api/v1/duty-records", body={
            "unit": planner["unit"], "category": self.data["category"], "date": date, "hours": "0.1",
            "place": "社区活动室", "description": f"并发测试履职记录 {self.source} #{self.n}",
        }, headers={"Authorization": f"Bearer {planner['token']}"})
        if status == 201:
            self.accepted("duty_record", json.loads(content)["id"])

    def suggestion_api(self):
        unit = self.rng.choice(self.data["units"])
        status, _, content = self.call("suggestion_api", "POST", f"/api/v1/public/units/{unit}/suggestions", body={
            "category": "suggestion", "content": f"建议在小区门口增设非机动车停放区（并发测试 {self.source} #{self.n}）。",
        })
        if status == 201:
            self.accepted("suggestion", json.loads(content)["tracking_code"])

    def suggestion_page(self):
        unit = self.rng.choice(self.data["units"])
        path = f"/suggestions/units/{unit}/new/"
        status, headers, page = self.call("suggestion_page", "GET", path)
        if status != 200:
            return
        cookies = _cookies(headers)
        form = urllib.parse.urlencode({
            "csrfmiddlewaretoken": _csrf_token(page), "category": "problem",
            "content": f"路灯损坏，夜间通行不便，请尽快维修（并发测试 {self.source} #{self.n}）。",
        })
        status, headers, _ = self.call("suggestion_page", "POST", path, body=form,
                                       headers={"Cookie": _cookie_header(cookies)})
        if status != 302:
            return
        cookies.update(_cookies(headers))
        status, _, page = self.call("suggestion_page", "GET", "/suggestions/thanks/",
                                    headers={"Cookie": _cookie_header(cookies)})
        code = re.search(rb'font-family: monospace">\s*([^<\s]+)\s*<', page) if status == 200 else None
        assert code, (status, page[:800])
        self.accepted("suggestion", code.group(1).decode())

    def token_login(self):
        username = self.rng.choice([d["username"] for d in self.data["duty"]] + [self.data["officer"]["username"]])
        status, _, content = self.call("token_login", "POST", "/api/v1/auth/token",
                                       body={"username": username, "password": self.data["password"]})
        if status == 200:
            from rpms.accounts.services import token_digest

            self.accepted("token", token_digest(json.loads(content)["token"]))

    def page_login(self):
        username = self.rng.choice([e["username"] for e in self.data["entities"]])
        status, headers, page = self.call("page_login", "GET", "/accounts/login/")
        if status != 200:
            return
        cookies = _cookies(headers)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": _csrf_token(page), "username": username,
                                       "password": self.data["password"]})
        status, headers, _ = self.call("page_login", "POST", "/accounts/login/", body=form,
                                       headers={"Cookie": _cookie_header(cookies)})
        if status == 302:
            self.accepted("session", _cookies(headers)["sessionid"])

    def proposal(self):
        with self.lock:
            if not self.pairs:
                return self.read()
            entity, planner = self.pairs.pop()
        status, _, content = self.call("proposal", "POST", "/api/v1/appointments/proposals", body={
            "planner": planner, "unit": entity["unit"], "role": "responsible_planner", "start": self.data["today"],
        }, headers={"Authorization": f"Bearer {entity['token']}"})
        if status != 201:
            return
        proposal = json.loads(content)["id"]
        self.accepted("proposal", proposal)
        status, _, content = self.call("approval", "POST", f"/api/v1/appointments/proposals/{proposal}/approve",
                                       headers={"Authorization": f"Bearer {self.data['officer']['token']}"})
        if status == 201:
            self.accepted("appointment", json.loads(content)["id"])

    def read(self):
        unit = self.rng.choice(self.data["units"])
        self.call("read", "GET", f"/api/v1/public/units/{unit}/suggestions")

    def run(self, until: float):
        ops = [name for name, _ in self.MIX]
        weights = [w for _, w in self.MIX]
        while time.monotonic() < until:
            self.n += 1
            op = self.rng.choices(ops, weights)[0]
            try:
                getattr(self, op)()
            except Exception as exc:  # noqa: BLE001 - a broken answer must show in the assertion
                with self.lock:
                    self.stats["failures"].append(f"{op}: {type(exc).__name__}: {exc}")


def _days_ago(today: str, days: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(today) - dt.timedelta(days=days)).isoformat()


# --- the tests -----------------------------------------------------------------------------------------------------


def test_simultaneous_approvals_over_the_unit_cap_give_409_not_500(live):
    cap = live.data["cap"]
    proposals = cap["proposals"]
    assert len(proposals) == 8 and cap["cap"] == 3
    barrier = threading.Barrier(len(proposals))
    answers = []
    lock = threading.Lock()
    token = live.data["officer"]["token"]

    def approve(index, proposal):
        barrier.wait(timeout=30)
        try:
            status, _, content = live.request("POST", f"/api/v1/appointments/proposals/{proposal}/approve",
                                              headers={"Authorization": f"Bearer {token}"},
                                              source=f"127.0.0.{100 + index}")
            code = json.loads(content).get("code") if status == 409 else None
        except OSError as exc:
            status, code = f"error:{type(exc).__name__}", None
        with lock:
            answers.append((status, code))

    threads = [threading.Thread(target=approve, args=pair) for pair in enumerate(proposals)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(answers, key=str) == sorted([(201, None)] * 3 + [(409, "unit_cap_reached")] * 5, key=str), \
        (answers, live.log_tail())
    from rpms.appointments.models import Appointment

    table = Appointment._meta.db_table
    assert live.db.rows(f"SELECT COUNT(*), COUNT(DISTINCT unit_id) FROM {table} WHERE planner_id = %s",
                        [cap["planner"]]) == [(3, 3)]


def test_twenty_writers_for_thirty_seconds_no_5xx_and_nothing_lost(live):
    if live.db.vendor == "sqlite":
        # The settings put the file database in WAL mode (readers never block the writer).
        assert live.db.rows("PRAGMA journal_mode") == [("wal",)]
    data = live.data
    pairs = [(entity, planner) for planner in data["fresh_planners"] for entity in data["entities"]]
    random.Random(13).shuffle(pairs)
    stats = {"answers": collections.Counter(), "accepted": collections.defaultdict(list), "failures": [],
             "slowest": collections.defaultdict(float)}
    lock = threading.Lock()
    writers = [Writer(live, i, pairs, stats, lock) for i in range(WRITERS)]
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=w.run, args=(until,)) for w in writers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 3 * REQUEST_TIMEOUT)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a writer hangs"

    answers = stats["answers"]
    accepted = stats["accepted"]
    summary = (f"{elapsed:.1f} s, {sum(answers.values())} answers: "
               + ", ".join(f"{op} {status}×{n}" for (op, status), n in sorted(answers.items(), key=str))
               + " | accepted: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(accepted.items()))
               + " | slowest answer: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stats["slowest"].items())))
    print(summary)
    assert not stats["failures"], (stats["failures"][:20], summary, live.log_tail())
    assert not [key for key in answers if isinstance(key[1], str) or key[1] >= 500], summary

    # Enough of every kind was accepted for the run to mean something.
    for kind, least in [("duty_record", 20), ("suggestion", 20), ("token", 3), ("session", 3), ("proposal", 5),
                        ("appointment", 5)]:
        assert len(accepted[kind]) >= least, (kind, summary)

    # Every accepted write is stored.
    from django.contrib.sessions.models import Session

    from rpms.accounts.models import ApiToken
    from rpms.appointments.models import Appointment, SelectionProposal
    from rpms.duties.models import DutyRecord
    from rpms.suggestions.models import Suggestion

    for kind, model, column in [("duty_record", DutyRecord, "id"), ("suggestion", Suggestion, "tracking_code"),
                                ("token", ApiToken, "digest"), ("session", Session, "session_key"),
                                ("proposal", SelectionProposal, "id"), ("appointment", Appointment, "id")]:
        keys = set(accepted[kind])
        assert len(keys) == len(accepted[kind]), f"{kind}: the same key answered twice"
        missing = keys - live.db.present(model._meta.db_table, column, keys)
        assert not missing, (kind, sorted(missing)[:20], summary)
