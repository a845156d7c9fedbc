#!/usr/bin/env python
"""Benchmark: bulk roster import (名册导入, issue #3 item 8). Target: 10,000 rows in ≤ 30 s on SQLite.

Builds a throwaway SQLite database in a temporary directory (migrated, reference data of both cities
loaded), generates a roster .xlsx of fictional people with valid, varied ID numbers (different regions,
birth dates, sequence numbers; checksums computed), optionally sprinkled with bad rows, then times:

  1. parse + validate  — rpms.registry.roster_import.roster_import_upload (read the .xlsx, check every
                         row with the rules of an application, duplicates in the file and the pool)
  2. import            — roster_import_run (every step: bulk_create of planners, districts, dossier events)

and prints rows, seconds per phase (wall clock, and the process's CPU time), rows/s and the peak memory
of the process (ru_maxrss; with --tracemalloc also the Python heap peak of each phase, at some cost in
speed).

    .venv/bin/python bench/import.py                  # 10,000 valid rows, Beijing
    .venv/bin/python bench/import.py --bad 50         # 50 bad rows, then 只导入无误的行
    .venv/bin/python bench/import.py --rows 20000 --city pingdingshan --tracemalloc
"""
import argparse
import io
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉丹玲建华飞鑫波宁欣怡晨雪琳佳悦子涵浩然宇轩思远博文"
REGIONS = ["110101", "110102", "110105", "110106", "110108", "120101", "130102", "310104", "320102", "330106",
           "370102", "410402", "410403", "420102", "440106", "510104", "610103"]
PLANNING_FIELDS = ["城乡规划", "城市设计", "建筑学", "风景园林"]
EMPLOYERS = ["规划设计研究院", "建筑设计研究院", "城市规划设计研究院", "景观设计事务所", "高校规划系", "工程咨询公司"]


def fictional_id_number(rng, n: int) -> str:
    from rpms.core.identity import id_number_checksum

    birth_year = rng.randint(1960, 1998)
    first17 = f"{rng.choice(REGIONS)}{birth_year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def person(rng, n: int, city, specialties, registrations, districts) -> list:
    """One eligible fictional person for `city` (both cities' rules are met: senior title or registration,
    a related bachelor's degree, enough years)."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    field = rng.choice(PLANNING_FIELDS)
    path = rng.random()
    title, title_field, regs = "", "", []
    if path < 0.5:
        title, title_field = rng.choice(["副高级", "正高级"]), field
    else:
        regs = rng.sample(registrations[:3], rng.randint(1, 2))
        title, title_field = rng.choice(["中级", "副高级"]), field
    return [
        name, fictional_id_number(rng, n), f"1{rng.choice('3456789')}{n:09d}"[:11],
        f"p{n}@example.com" if rng.random() < 0.3 else "",
        f"虚构{rng.choice(EMPLOYERS)}{n % 97}",
        rng.choice(["本科", "硕士研究生", "博士研究生"]), field, field, title, title_field, "、".join(regs),
        rng.randint(5, 35), "、".join(rng.sample(specialties, rng.randint(1, 3))),
        "、".join(rng.sample(districts, rng.randint(0, min(3, len(districts))))),
        f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",  # admitted on (issue #12 5d)
        f"虚构规划自然资源委〔20{rng.randint(15, 24)}〕{rng.randint(1, 99)}号",  # the admission's evidence
    ]


BAD_KINDS = ("checksum", "mobile", "specialty", "ineligible", "duplicate", "district")


def spoil(rng, row: list, kind: str, rows: list) -> None:
    if kind == "checksum":
        row[1] = row[1][:-1] + ("0" if row[1][-1] != "0" else "1")
    elif kind == "mobile":
        row[2] = "1234567"
    elif kind == "specialty":
        row[12] = row[12] + "、量子规划"
    elif kind == "ineligible":
        row[5], row[8], row[9], row[10], row[11] = "大专", "", "", "", 2
    elif kind == "duplicate":
        row[1] = rows[rng.randrange(0, len(rows))][1]
    elif kind == "district":
        row[13] = "不存在区"


def roster_bytes(*, city, rows: int, bad: int, seed: int) -> tuple[bytes, int]:
    from openpyxl import Workbook

    from rpms.geography.models import District
    from rpms.registry.roster_import import COLUMNS

    rng = random.Random(seed)
    policy = city.policy
    specialties = [s["label"] for s in policy.specialties]
    registrations = [r["label"] for r in policy.registrations]
    districts = list(District.objects.filter(city=city).values_list("name", flat=True))
    data = [person(rng, n, city, specialties, registrations, districts) for n in range(rows)]
    # unique ID numbers (a random collision would be a duplicate row the benchmark did not ask for)
    seen = set()
    for n, row in enumerate(data):
        while row[1] in seen:
            row[1] = fictional_id_number(rng, n + rng.randint(1000, 9999))
        seen.add(row[1])
    bad_rows = rng.sample(range(1, rows), bad) if bad else []
    for index in bad_rows:
        spoil(rng, data[index], rng.choice(BAD_KINDS), data[:index])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("责任规划师名册")
    sheet.append([c.header for c in COLUMNS])
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), len(bad_rows)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description="名册导入基准测试（SQLite，临时数据库）")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad", type=int, default=0, help="number of bad rows to sprinkle in")
    parser.add_argument("--city", default="beijing", choices=["beijing", "pingdingshan"])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--tracemalloc", action="store_true", help="also report the Python heap peak per phase")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rpms-bench-import-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["PRIVATE_MEDIA_ROOT"] = str(workdir / "private")
    try:
        import django

        django.setup()
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.management import call_command

        from rpms.accounts.models import Role, User
        from rpms.geography.reference import reference_data_load
        from rpms.registry.models import DossierEvent, Planner, PlannerSource
        from rpms.registry.roster_import import roster_import_run, roster_import_upload

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        cities = {c.code: c for c in reference_data_load(actor=None)}
        city = cities[args.city]
        admin = User.objects.create_user(username="bench_admin", password="x", role=Role.CITY_ADMIN, city=city)
        setup = time.perf_counter() - t0

        t0 = time.perf_counter()
        content, bad = roster_bytes(city=city, rows=args.rows, bad=args.bad, seed=args.seed)
        generate = time.perf_counter() - t0

        upload = SimpleUploadedFile("bench-roster.xlsx", content)
        if args.tracemalloc:
            tracemalloc.start()
        t0, c0 = time.perf_counter(), time.process_time()
        roster_import = roster_import_upload(actor=admin, city=city, uploaded_file=upload)
        validate, validate_cpu = time.perf_counter() - t0, time.process_time() - c0
        heap_validate = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.reset_peak()

        t0, c0 = time.perf_counter(), time.process_time()
        roster_import = roster_import_run(actor=admin, roster_import=roster_import, only_valid=bool(roster_import.error_rows))
        run, run_cpu = time.perf_counter() - t0, time.process_time() - c0
        heap_import = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.stop()

        imported = Planner.objects.filter(source=PlannerSource.IMPORT).count()
        events = DossierEvent.objects.filter(kind="imported").count()
        total = validate + run
        print(f"名册导入基准测试 · {city.name} · SQLite（{workdir}）")
        print(f"  rows in file          {args.rows:>10,}   (bad rows sprinkled: {bad}; file {len(content) / 2**20:.2f} MB)")
        print(f"  setup (migrate+ref.)  {setup:>10.2f} s   (not counted)")
        print(f"  generate .xlsx        {generate:>10.2f} s   (not counted)")
        print(f"  parse + validate      {validate:>10.2f} s   {args.rows / validate:>10,.0f} rows/s   "
              f"valid {roster_import.valid_rows:,}, error rows {roster_import.error_rows:,}, errors {len(roster_import.errors):,}")
        print(f"  import (all steps)    {run:>10.2f} s   {roster_import.imported_rows / run:>10,.0f} rows/s   "
              f"imported {roster_import.imported_rows:,} planners, {events:,} dossier events")
        print(f"  total                 {total:>10.2f} s   {args.rows / total:>10,.0f} rows/s   "
              + ("(timings inflated by --tracemalloc; run without it to judge the target)" if args.tracemalloc else
                 f"(target ≤ 30 s for 10,000 rows: {'met' if total <= 30 * args.rows / 10_000 else 'NOT met'})"))
        print(f"  CPU time (process)    {validate_cpu + run_cpu:>10.2f} s   (validate {validate_cpu:.2f} s, import {run_cpu:.2f} s;"
              f" wall time above this means a busy machine or disk waits)")
        print(f"  peak memory (RSS)     {peak_rss_mb():>10.1f} MB")
        if args.tracemalloc:
            print(f"  Python heap peak      {heap_validate:>10.1f} MB (validate), {heap_import:.1f} MB (import)")
        expected = args.rows - roster_import.error_rows
        if imported != expected or events != expected:
            print(f"  MISMATCH: expected {expected:,} imported planners, found {imported:,} ({events:,} events)")
            return 1
        return 0
    finally:
        if args.keep:
            print(f"  database kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
