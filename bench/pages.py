#!/usr/bin/env python
"""Benchmark of every list page and API list at 1× and 10× Beijing on PostgreSQL (issue #15). Prints figures; not a test.

    scripts/with-postgres.sh .venv/bin/python bench/pages.py                # both scales
    .venv/bin/python bench/pages.py --scales 1 --requests 3                 # runs itself under with-postgres.sh
    .venv/bin/python bench/pages.py --only duty --no-throughput

Without a PostgreSQL DATABASE_URL it runs itself again under scripts/with-postgres.sh (a throwaway PostgreSQL 15
cluster). For each scale (1 = Beijing: 350 units, 2,000 planners, 100 k duty records, 20 k suggestions, 100 k audit
rows; 10 = ten times that) it empties the database (DROP SCHEMA public), migrates, loads the reference data,
builds the city as it stands today with bench/world.py, creates the role users through the services the app uses
(Beijing's city administrator, a Haidian district officer, a street office of a Haidian unit, a planner serving
that unit — the planner's account linked by registry.planner_link_user — and the anonymous public), runs ANALYZE,
and then, with DEBUG off and Django's test client in this process (sessions by force_login, the API with a bearer
token from accounts.services.api_token_issue), measures every page of the PAGES table below and every GET API
list of the OpenAPI schema (no path parameter but the city code) each role can open (status 200):
p50 and p95 of the server time (time.perf_counter around client.get, the body read to its end), the queries
of one request (CaptureQueriesContext) and the bytes. `--passes` passes of `--requests` requests each; the
figures are the medians of the passes. A row is flagged when its p95 at the largest scale exceeds 100 ms or
its number of queries differs between scales. For the slowest page at the largest scale it prints
EXPLAIN (ANALYZE, BUFFERS) of its slowest query.

Then the throughput ratio (unless --no-throughput): gunicorn on the largest scale's data (bench/load.py's
Server, bench/load_settings.py), CLIENTS threads on find-my-planner searches (GET /find/?q=…), then on the
minimal Django view answering the same bytes (bench/load_urls.py); req/s of each, medians of the passes, and
their ratio (target ≥ 50 %).

Exits 0 even when targets are missed (it is a benchmark); the last lines summarise the misses.
On an EMPTY PostgreSQL database of your own: DATABASE_URL=postgresql://… .venv/bin/python bench/pages.py
--disposable-database (the schema `public` of that database is dropped for each scale).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import load as load_bench  # noqa: E402  (gunicorn Server, Workload, run_phase)
from bench import world  # noqa: E402

PASSWORD = "Rpms-bench-pages-2026!"
TARGET_MS = 100.0
ROLES = {
    "city": "市级管理员",
    "district": "区级（海淀）",
    "street": "街道（聘任主体）",
    "planner": "责任规划师",
    "public": "公众（匿名）",
}

# (roles, label, url, kind). The roles are those expected to open the page; a row a role cannot open (status other
# than 200) is listed under the table. {year}, {unit}, {unit_name}, {district_name} are filled in per data set.
STAFF = "city district street planner"
PAGES = [
    (STAFF + " public", "首页（工作台）", "/", "page"),
    ("public", "找到我的责任规划师：单元名", "/find/?q={unit_name}", "page"),
    ("public", "找到我的责任规划师：区名", "/find/?q={district_name}", "page"),
    ("public", "单元公开页（意见建议）", "/suggestions/units/{unit}/", "page"),
    ("public", "公开意见建议查询", "/suggestions/", "page"),
    ("public", "公开聘任名单", "/appointments/public/", "page"),
    ("public", "信息公开首页", "/info/", "page"),
    ("public", "覆盖地图", "/info/map/", "page"),
    ("public", "开放数据", "/info/open-data/", "page"),
    ("public", "公告", "/info/announcements/", "page"),
    ("public", "政策", "/info/policies/", "page"),
    ("public", "案例", "/cases/", "page"),
    ("public", "荣誉公示", "/assessments/honours/", "page"),
    ("public", "公开征集", "/recruitment/", "page"),
    ("public", "公开单元接口", "/api/v1/public/units/{unit}", "api"),
    ("public", "公开单元意见建议接口", "/api/v1/public/units/{unit}/suggestions", "api"),
    ("city district", "资源库", "/pool/", "page"),
    ("city district", "资源库例外", "/pool/exceptions/", "page"),
    ("planner", "我的档案", "/pool/mine/", "page"),
    ("city district street", "聘任", "/appointments/", "page"),
    ("city district street", "即将到期聘任", "/appointments/expiring/", "page"),
    ("city district street", "撤回与解聘", "/appointments/withdrawals/", "page"),
    ("city district", "区总师", "/appointments/chiefs/", "page"),
    ("city district street", "选聘建议", "/appointments/proposals/", "page"),
    (STAFF, "履职首页", "/duties/", "page"),
    (STAFF, "履职记录", "/duties/records/", "page"),
    (STAFF, "履职日历", "/duties/calendar/", "page"),
    (STAFF, "履职汇总", "/duties/summary/", "page"),
    (STAFF, "资料调取", "/duties/data-requests/", "page"),
    (STAFF, "工作证明", "/duties/certificates/", "page"),
    (STAFF, "额外工作", "/duties/extra-work/", "page"),
    (STAFF, "监督反馈", "/duties/feedback/", "page"),
    ("city district planner", "意见建议管理", "/suggestions/manage/", "page"),
    (STAFF, "工作建议", "/suggestions/proposals/", "page"),
    (STAFF, "书面意见", "/opinions/", "page"),
    ("district street", "书面意见收件箱", "/opinions/inbox/", "page"),
    ("city district street", "考核", "/assessments/", "page"),
    ("city district", "待考核", "/assessments/due/", "page"),
    ("city district", "违规记录", "/assessments/violations/", "page"),
    ("city district", "更换提示", "/assessments/flags/", "page"),
    ("city district", "区级考核", "/assessments/districts/", "page"),
    ("city", "荣誉管理", "/assessments/honours/manage/", "page"),
    ("city district street planner", "经费首页", "/finance/", "page"),
    ("city district planner", "交通通讯补贴", "/finance/allowances/", "page"),
    ("city district street", "服务费用", "/finance/fees/", "page"),
    ("city planner", "培训首页", "/training/", "page"),
    ("city", "培训记录", "/training/records/", "page"),
    ("city", "培训课程", "/training/courses/", "page"),
    ("city", "征集管理", "/recruitment/manage/", "page"),
    ("planner", "我的申请", "/recruitment/mine/", "page"),
    ("city district", "统筹选派", "/dispatch/", "page"),
    ("city district", "选派需求", "/dispatch/requests/", "page"),
    ("city", "利益冲突", "/dispatch/conflicts/", "page"),
    ("city", "操作日志", "/audit/", "page"),
    ("city district", "年度统计", "/statistics/?year={year}", "page"),
    ("city district", "责任单元", "/geography/units/", "page"),
    ("city", "区", "/geography/districts/", "page"),
    ("city", "信息公开管理", "/info/manage/", "page"),
    ("city district", "案例管理", "/cases/manage/", "page"),
    (STAFF, "通知", "/inbox/", "page"),
    ("city", "城市", "/cities/", "page"),
    ("city", "工作日", "/workdays/", "page"),
]
# GET API paths of the OpenAPI schema left out: not lists (health, calculators, previews), files and exports.
API_SKIP = re.compile(r"/health$|/workdays/|/export|\.pdf$|/preview$|/options$|/fields$")


# --- running -----------------------------------------------------------------------------------------------------


def _postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def fresh_database(out):
    """Drop and recreate the schema `public` of DATABASE_URL (the throwaway database) and migrate it."""
    import psycopg
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    for cache in caches.all():
        cache.clear()
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    out(f"  迁移                                   {time.perf_counter() - t:7.1f} s")


def build(scale: int, seed: int, out, *, reuse: bool = False) -> dict:
    """A fresh database with the world at `scale` × Beijing, the role users and their credentials."""
    from django.db import connection

    from rpms.accounts.models import Role
    from rpms.accounts.services import api_token_issue, user_create
    from rpms.appointments.models import Appointment
    from rpms.core import clock
    from rpms.geography.models import District, ResponsibilityUnit
    from rpms.geography.reference import reference_data_load
    from rpms.registry.services import planner_link_user

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from rpms.cities.models import City

    existing = None
    if reuse and "accounts_user" in connection.introspection.table_names():
        existing = get_user_model().objects.filter(username="bench_city_admin").first()
    if existing is not None:  # --reuse: the world built by an earlier run; only new migrations are applied
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        out(f"  沿用已有数据，迁移                     {time.perf_counter() - t:7.1f} s")
        city = City.objects.get(code="beijing")
    else:
        fresh_database(out)
        t = time.perf_counter()
        cities = {c.code: c for c in reference_data_load(actor=None)}
        city = cities["beijing"]
        out(f"  参考数据                               {time.perf_counter() - t:7.1f} s")
        t = time.perf_counter()
        counts = world.generate(city=city, scale=scale / 10, seed=seed, out=out, audit=True)
        out(f"  生成合计                               {time.perf_counter() - t:7.1f} s")
        out("  数据量：" + "，".join(f"{k} {v:,}" for k, v in counts.items()))

    haidian = District.objects.get(city=city, name="海淀区")
    today = clock.today()
    served = (Appointment.objects.filter(unit__district=haidian, unit__memberships__left_at__isnull=True,
                                         status="active", start__lte=today, end__gte=today)
              .select_related("unit", "planner").order_by("id").first())
    unit = served.unit
    subdistrict = unit.memberships.filter(left_at__isnull=True).select_related("subdistrict").first().subdistrict
    if existing is not None:
        by_name = get_user_model().objects.in_bulk(
            ["bench_city_admin", "bench_haidian", "bench_street", "bench_planner"], field_name="username")
        users = {"city": by_name["bench_city_admin"], "district": by_name["bench_haidian"],
                 "street": by_name["bench_street"], "planner": by_name["bench_planner"]}
    else:
        users = {
            "city": user_create(actor=None, username="bench_city_admin", password=PASSWORD, role=Role.CITY_ADMIN,
                                city=city, display_name="北京市级管理员（基准测试）"),
            "district": user_create(actor=None, username="bench_haidian", password=PASSWORD, role=Role.DISTRICT_OFFICER,
                                    city=city, display_name="海淀区工作专班（基准测试）", districts=[haidian]),
            "street": user_create(actor=None, username="bench_street", password=PASSWORD, role=Role.HIRING_ENTITY,
                                  city=city, display_name=f"{subdistrict.name}（基准测试）", subdistricts=[subdistrict]),
            "planner": user_create(actor=None, username="bench_planner", password=PASSWORD, role=Role.PLANNER,
                                   city=city, display_name=served.planner.name),
        }
        planner_link_user(actor=None, planner=served.planner, user=users["planner"])
    tokens = {role: api_token_issue(user=user)[0] for role, user in users.items()}
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    out(f"  ANALYZE                                {time.perf_counter() - t:7.1f} s")
    unit_names = list(ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True)
                      .exclude(name__startswith="基准测试").order_by("id").values_list("name", flat=True)[:20])
    return {"city": city, "users": users, "tokens": tokens, "unit": unit.pk,
            "fill": {"year": today.year - 1, "unit": unit.pk, "unit_name": unit.name, "district_name": "海淀"},
            "terms": unit_names + [n[:2] for n in unit_names[:5]] + ["海淀", "朝阳", "中关村", "不存在的地方"]}


def targets(data, only: str | None) -> list[tuple[str, str, str, str]]:
    """(role, label, url, kind) of everything to measure: the PAGES table and the GET API lists."""
    from config.api import api

    rows = []
    for roles, label, url, kind in PAGES:
        for role in roles.split():
            rows.append((role, label, url.format(**{k: urllib.parse.quote(str(v)) for k, v in data["fill"].items()}),
                         kind))
    for path, operations in api.get_openapi_schema()["paths"].items():
        if "get" not in operations or API_SKIP.search(path):
            continue
        if "{" in path.replace("{code}", ""):
            continue
        url = path.replace("{code}", data["city"].code)
        public = url.startswith("/api/v1/public/") or url.startswith("/api/v1/cities")
        for role in (["public"] if url.startswith("/api/v1/public/") else list(ROLES) if public else STAFF.split()):
            rows.append((role, "接口 " + url.removeprefix("/api/v1/"), url, "api"))
    if only:
        rows = [r for r in rows if only in r[1] or only in r[2] or only in r[0]]
    return rows


def clients_for(data):
    from django.test import Client

    made = {"public": Client()}
    for role, user in data["users"].items():
        session = Client()
        session.force_login(user)
        made[role] = session
        made[role + ":api"] = Client(HTTP_AUTHORIZATION=f"Bearer {data['tokens'][role]}")
    return made


def fetch(client, url):
    """(seconds, status, body) of one GET, the body read to its end (streamed CSVs included)."""
    began = time.perf_counter()
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return time.perf_counter() - began, response.status_code, body


class Queries:
    """The queries one request runs (sql, params, seconds), by a database execute wrapper — it needs no DEBUG."""

    def __init__(self):
        self.captured = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.captured.append((sql, params, time.perf_counter() - began))


def measure(data, rows, args, out) -> tuple[dict, list]:
    """{(role, label): figures} of the rows the role can open, and the (role, label, url, status) of the others.
    A page whose warm-up request takes longer than --slow seconds is timed with one pass of two requests."""
    from django.db import connection

    clients = clients_for(data)
    results, refused = {}, []
    for role, label, url, kind in rows:
        client = clients[role + ":api"] if kind == "api" and role != "public" else clients[role]
        warm, status, body = fetch(client, url)  # the warm-up request
        if status in (301, 302) and kind == "page":
            # a section's index that sends each role to its own list: measure that list
            location = client.get(url)["Location"]
            if location.startswith("/") and not location.startswith("/accounts/login"):
                url = location
                warm, status, body = fetch(client, url)
        if status != 200:
            refused.append((role, label, url, status))
            continue
        queries = Queries()
        with connection.execute_wrapper(queries):
            _, status, body = fetch(client, url)  # the queries of one (warm) request
        passes, requests = (args.passes, args.requests) if warm <= args.slow else (1, 2)
        p50s, p95s = [], []
        for _ in range(passes):
            times = [fetch(client, url)[0] * 1000 for _ in range(requests)]
            p50s.append(_percentile(times, 50))
            p95s.append(_percentile(times, 95))
        results[(role, label)] = {"url": url, "kind": kind, "p50": statistics.median(p50s),
                                  "p95": statistics.median(p95s), "queries": len(queries.captured),
                                  "bytes": len(body), "captured": queries.captured, "reduced": warm > args.slow}
        out(f"    {ROLES[role]:<10} {label:<34} {statistics.median(p95s):8.1f} ms  "
            f"{len(queries.captured):3d} 查询  {len(body):>9,} B  {url}")
    return results, refused


def explain_slowest(results, out):
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the slowest page (re-run to capture its queries)."""
    from django.db import connection

    (role, label), row = max(results.items(), key=lambda item: item[1]["p95"])
    queries = [q for q in row["captured"] if q[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    if not queries:
        return
    sql, params, seconds = max(queries, key=lambda q: q[2])
    out(f"\n最慢的页面：{ROLES[role]} · {label} {row['url']}（p95 {row['p95']:.1f} ms，{row['queries']} 次查询）；"
        f"其最慢的查询（{seconds * 1000:.1f} ms）：")
    out("  " + " ".join(sql.split())[:1500] + (f"  参数 {list(params)[:20]}" if params else ""))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cursor.fetchall():
            out("    " + line)


def print_table(scales, by_scale, refused, out) -> list[str]:
    big = max(scales)
    keys = []
    for scale in scales:
        for key in by_scale[scale]:
            if key not in keys:
                keys.append(key)
    head = f"{'角色':<10} {'类':<4} {'页面/接口':<36}" + "".join(
        f" | {f'{s}× p50':>8} {'p95':>7} {'查询':>4} {'字节':>9}" for s in scales) + " | 标记"
    out("\n" + head)
    out("-" * (len(head) + 10))
    misses = []
    for role, label in keys:
        cells, flags = [], []
        for scale in scales:
            r = by_scale[scale].get((role, label))
            cells.append(f" | {'—':>8} {'':>7} {'':>4} {'':>9}" if r is None else
                         f" | {r['p50']:8.1f} {r['p95']:6.1f}{'*' if r['reduced'] else ' '} {r['queries']:4d} {r['bytes']:9,}")
        r_big = by_scale[big].get((role, label))
        if r_big is not None and r_big["p95"] > TARGET_MS:
            flags.append(f"p95>{TARGET_MS:.0f}ms")
        counts = {by_scale[s][(role, label)]["queries"] for s in scales if (role, label) in by_scale[s]}
        if len(counts) > 1:
            flags.append("查询数随数据量变化")
        kind = (r_big or next(by_scale[s][(role, label)] for s in scales if (role, label) in by_scale[s]))["kind"]
        out(f"{ROLES[role]:<10} {kind:<4} {label:<36}" + "".join(cells) + " | " + " ".join(flags))
        if flags:
            misses.append(f"{ROLES[role]} · {label}：{'、'.join(flags)}")
    out("（* 慢页面只测一轮两次；p50/p95 为毫秒，服务器内时间；查询为一次请求的查询数）")
    for scale in scales:
        for role, label, url, status in refused.get(scale, []):
            if not label.startswith("接口 "):
                out(f"  未打开（{scale}×）：{ROLES[role]} · {label} {url} → {status}")
    return misses


def throughput(data, args, out) -> float | None:
    """req/s of find-my-planner searches and of the minimal view with the same bytes, on gunicorn."""
    tmp = Path(tempfile.mkdtemp(prefix="rpms-pages-"))
    server_args = argparse.Namespace(workers=args.workers)
    server = load_bench.Server(server_args, tmp)
    try:
        server.start()
        facts = {"terms": data["terms"]}
        workload = load_bench.Workload(server, facts, "", "", "")
        status, _, page = server.request("GET", "/find/?" + urllib.parse.urlencode({"q": facts["terms"][0]}))
        if status != 200:
            out(f"  找到我的责任规划师页面返回 {status}，吞吐量未测")
            return None
        (tmp / "find-page.html").write_bytes(page)
        status, _, same = server.request("GET", "/bench/minimal/")
        assert status == 200 and same == page, "the minimal view does not answer the page's bytes"
        find_rates, minimal_rates = [], []
        for n in range(args.passes):
            for endpoint, rates in (("find_page", find_rates), ("minimal_view", minimal_rates)):
                recorder, wall = load_bench.run_phase(server, workload, {endpoint: 1}, args.clients, args.seconds)
                done = len(recorder.latencies[endpoint])
                errors = recorder.errors[endpoint]
                rates.append(done / wall)
                out(f"  第 {n + 1} 轮 {endpoint:<13} {done / wall:7.1f} req/s"
                    f"（p95 {_percentile(recorder.latencies[endpoint], 95) * 1000:.0f} ms，错误 {errors}）")
        find, minimal = statistics.median(find_rates), statistics.median(minimal_rates)
        ratio = find / minimal if minimal else float("nan")
        out(f"  吞吐量（{args.clients} 个并发客户端，gunicorn {args.workers} 个同步 worker，{len(page):,} 字节的页面，"
            f"{args.passes} 轮中位数）：找到我的责任规划师 {find:.1f} req/s，最简视图 {minimal:.1f} req/s，"
            f"比值 {ratio:.0%}（目标 ≥ 50%）")
        return ratio
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="页面与接口列表基准测试（1 倍与 10 倍北京规模，PostgreSQL）")
    parser.add_argument("--scales", default="1,10", help="comma-separated multiples of Beijing (default 1,10)")
    parser.add_argument("--passes", type=int, default=3, help="passes over every page (default 3); medians of the passes")
    parser.add_argument("--requests", type=int, default=3, help="requests per page per pass (default 3)")
    parser.add_argument("--slow", type=float, default=1.0,
                        help="a page whose warm-up takes longer (seconds) is timed with one pass of two requests")
    parser.add_argument("--only", default=None, help="only pages whose label, URL or role contains this substring")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-throughput", action="store_true", help="skip the gunicorn throughput ratio")
    parser.add_argument("--clients", type=int, default=8, help="throughput: concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=15, help="throughput: seconds per phase (default 15)")
    parser.add_argument("--workers", type=int, default=3, help="throughput: gunicorn workers (default 3)")
    parser.add_argument("--reuse", action="store_true",
                        help="one scale only: keep the world an earlier run left in DATABASE_URL (migrate, then measure)")
    parser.add_argument("--disposable-database", action="store_true",
                        help="use DATABASE_URL even if it already has tables (its schema public is dropped)")
    args = parser.parse_args()
    scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})

    if not _postgres(os.environ.get("DATABASE_URL", "")):
        if os.environ.get("RPMS_BENCH_PAGES_CHILD"):
            sys.exit("with-postgres.sh gave no PostgreSQL DATABASE_URL")
        os.environ["RPMS_BENCH_PAGES_CHILD"] = "1"
        script = BASE_DIR / "scripts" / "with-postgres.sh"
        return subprocess.call([str(script), sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    if args.reuse and len(scales) != 1:
        sys.exit("--reuse measures one scale: give --scales N")
    if not (args.disposable_database or args.reuse) and not load_bench._database_is_empty():
        sys.exit("DATABASE_URL names a database that already has tables; use an empty one or --disposable-database")

    tmp = Path(tempfile.mkdtemp(prefix="rpms-pages-var-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = load_bench.SETTINGS  # DEBUG off, the product's middleware
    os.environ["RPMS_VAR_DIR"] = str(tmp / "var")
    os.environ["RPMS_BENCH_MINIMAL_BODY"] = str(tmp / "find-page.html")
    try:
        import logging

        import django

        django.setup()
        logging.getLogger("django.request").setLevel(logging.ERROR)  # the 403s of probing are expected
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

        def out(text, end="\n"):
            print(text, end=end, flush=True)

        out(f"页面与接口基准测试 · PostgreSQL · 规模 {', '.join(f'{s}×' for s in scales)} 北京 · 每页 {args.passes} 轮 × "
            f"{args.requests} 次 · {os.cpu_count()} 核，负载 {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        by_scale, refused, data = {}, {}, None
        for scale in scales:
            out(f"\n== {scale}× 北京")
            t = time.perf_counter()
            data = build(scale, args.seed, out, reuse=args.reuse)
            out(f"  建库合计                               {time.perf_counter() - t:7.1f} s")
            rows = targets(data, args.only)
            t = time.perf_counter()
            by_scale[scale], refused[scale] = measure(data, rows, args, out)
            out(f"  测量 {len(by_scale[scale])} 个页面/接口（{len(refused[scale])} 个该角色打不开）"
                f"{time.perf_counter() - t:9.1f} s" + " " * 40)
            if scale == max(scales) and by_scale[scale]:
                explain_slowest(by_scale[scale], out)
        misses = print_table(scales, by_scale, refused, out)
        ratio = None
        if not args.no_throughput and data is not None:
            out(f"\n== 吞吐量对比（{max(scales)}× 北京的数据）")
            ratio = throughput(data, args, out)
        out("")
        if ratio is not None and ratio < 0.5:
            misses.append(f"吞吐量比值 {ratio:.0%} < 50%")
        big = max(scales)
        slow = sum(1 for r in by_scale[big].values() if r["p95"] > TARGET_MS)
        out(f"小结：{big}× 时 {len(by_scale[big])} 个页面/接口中 {slow} 个 p95 > {TARGET_MS:.0f} ms；"
            f"未达标 {len(misses)} 项" + ("：" if misses else "。"))
        for miss in misses:
            out(f"  - {miss}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
