#!/usr/bin/env python
"""Benchmark: annual statistics (年度统计, issue #6 item 7, B19(6)). Target: ≤ 2 s on PostgreSQL.

Generates a 10× Beijing year (--scale 1): 3,500 responsibility units, 20,000 planners (with their dossier
events), about 4,000 appointments (first terms and renewals), 1,000,000 duty records, 200,000 residents'
suggestions, 10,000 issued written opinions (with their documents and responses), a graded assessment per
appointment and a fee schedule with payments (bench/world.py) — every row fictional, spread over the year and its edges
(some rows of the year before and after, so the filters have work to do). Then it times
`rpms.reports.selectors.city_statistics(city=beijing, year=…)`: cold (first call on a fresh database
connection) and warm (best of three), and prints the seconds, the number of queries and the slowest queries.

    scripts/with-postgres.sh .venv/bin/python bench/annual_statistics.py        # PostgreSQL (throwaway cluster)
    .venv/bin/python bench/annual_statistics.py --scale 0.05                     # SQLite in a temporary directory
    DATABASE_URL=postgresql://… .venv/bin/python bench/annual_statistics.py      # an EMPTY PostgreSQL database

With DATABASE_URL set to PostgreSQL the database is migrated and filled; it refuses a database that already
holds cities (it would add a million fictional rows to it) unless --disposable-database is given. Without
DATABASE_URL (or with --sqlite) it uses a throwaway SQLite file. The big tables are written with COPY on
PostgreSQL and executemany on SQLite (bulk_create for the small ones); ANALYZE runs before the timing.
"""
import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.world import generate  # noqa: E402  (the data generator, shared with bench/pages.py)


# --- timing ----------------------------------------------------------------------------------------------------------------


def time_statistics(*, city, year: int, out) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rpms.cities.models import City
    from rpms.reports.selectors import city_statistics

    connection.close()  # cold: a fresh connection, nothing cached in this process
    city = City.objects.select_related("policy").get(pk=city.pk)
    with CaptureQueriesContext(connection) as cold_queries:
        t = time.perf_counter()
        stats = city_statistics(city=city, year=year)
        cold = time.perf_counter() - t
    warm_runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as warm_queries:
            t = time.perf_counter()
            city_statistics(city=city, year=year)
            warm_runs.append(time.perf_counter() - t)
    slow = sorted(warm_queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:6]
    load = os.getloadavg()[0]
    out(f"  机器负载（1 分钟平均）{load:.1f}（{os.cpu_count()} 核；负载高时耗时偏大）")
    return {"stats": stats, "cold": cold, "warm": min(warm_runs), "warm_runs": warm_runs,
            "queries_cold": len(cold_queries.captured_queries), "queries_warm": len(warm_queries.captured_queries),
            "slow": slow}


def main() -> int:
    parser = argparse.ArgumentParser(description="年度统计基准测试（10 倍北京规模的一年）")
    parser.add_argument("--scale", type=float, default=None,
                        help="fraction of the 10× Beijing year (default 1 on PostgreSQL, 0.05 on SQLite)")
    parser.add_argument("--sqlite", action="store_true", help="use a throwaway SQLite database even if DATABASE_URL is set")
    parser.add_argument("--year", type=int, default=None, help="the year to generate and compute (default: last year)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--disposable-database", action="store_true",
                        help="allow filling a PostgreSQL database that already holds data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite directory")
    parser.add_argument("--explain", action="store_true", help="PostgreSQL: print EXPLAIN ANALYZE of the three slowest queries")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.get("DATABASE_URL", "")
    workdir = None
    if args.sqlite or not url.startswith(("postgres://", "postgresql://")):
        workdir = Path(tempfile.mkdtemp(prefix="rpms-bench-stats-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("PRIVATE_MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "rpms-bench-private"))
    scale = args.scale if args.scale is not None else (0.05 if workdir else 1.0)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from rpms.cities.models import City
        from rpms.core import clock
        from rpms.geography.reference import reference_data_load

        def out(text):
            print(text, flush=True)

        backend = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
        if connection.vendor == "postgresql" and not args.disposable_database:
            tables = connection.introspection.table_names()
            if "cities_city" in tables and City.objects.exists():
                out("这个 PostgreSQL 数据库已有数据：基准测试会写入上百万行虚构数据，已拒绝。"
                    "请用 scripts/with-postgres.sh 运行，或加 --disposable-database。")
                return 2
        year = args.year or clock.today().year - 1
        out(f"年度统计基准测试 · {backend} · 规模 {scale:g} × 10 倍北京 · 统计年度 {year}")
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        cities = {c.code: c for c in reference_data_load(actor=None)}
        city = cities["beijing"]
        out(f"  迁移与参考数据                         {time.perf_counter() - t0:7.1f} s")
        t0 = time.perf_counter()
        counts = generate(city=city, year=year, scale=scale, seed=args.seed, out=out)
        out(f"  生成合计                               {time.perf_counter() - t0:7.1f} s")
        result = time_statistics(city=city, year=year, out=out)
        stats = result["stats"]
        out("  数据量：" + "，".join(f"{k} {v:,}" for k, v in counts.items()))
        out(f"  city_statistics 冷启动（新连接）       {result['cold']:7.3f} s   查询 {result['queries_cold']} 次")
        out(f"  city_statistics 热运行（三次取最快）   {result['warm']:7.3f} s   查询 {result['queries_warm']} 次"
            f"   （三次：{', '.join(f'{x:.3f}' for x in result['warm_runs'])}）")
        if connection.vendor == "postgresql":
            verdict = "达到" if max(result["cold"], result["warm"]) <= 2 else "未达到"
            out(f"  目标 ≤ 2 s（PostgreSQL）：{verdict}")
        out("  最慢的查询（热运行）：")
        for query in result["slow"]:
            sql = " ".join(query["sql"].split())
            out(f"    {float(query['time']):6.3f} s  {sql[:150]}")
        if args.explain and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for query in result["slow"][:3]:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    out("  ---- EXPLAIN ANALYZE ----")
                    for (line,) in cursor.fetchall():
                        out("    " + (line if len(line) < 240 else line[:240] + " …"))
        total = stats["duty_hours"]["total"]
        out(f"  结果核对：履职记录 {total['records']:,} 条 / {total['hours']:,} 小时；意见建议受理 "
            f"{stats['suggestions']['total']['received']:,}，按期答复率 {stats['suggestions']['total']['on_time_rate']}，"
            f"答复用时中位数 {stats['suggestions']['total']['median_days']} 天（工作日 {stats['suggestions']['total']['median_working_days']}）；"
            f"责任单元 {stats['coverage']['total']['units']:,}，覆盖率 {stats['coverage']['total']['ratio']}；"
            f"在库 {stats['pool']['in_pool']:,}")
        out(f"  峰值内存（RSS）                        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.1f} MB")
        return 0
    finally:
        if workdir is not None:
            if args.keep:
                print(f"  数据库保留在 {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
