"""Times a page login (POST /accounts/login/ → 302) with the production password hashers (issue 17 item 10),
on a fresh SQLite database with one account per role: the first login of an account whose password was hashed
with PBKDF2 (Django's 1,000,000 rounds: checked, then re-hashed with Argon2id), and later logins (Argon2id at
Django's defaults). Prints wall and CPU milliseconds per hasher and per login (median of --repeat), and the
hasher's parameters beside Django's defaults.

    .venv/bin/python bench/login.py [--repeat 5]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench_login.sqlite3"
PASSWORD = "Bench-login-2026"


def _median_ms(samples):
    return round(statistics.median(samples) * 1000, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import (Argon2PasswordHasher, PBKDF2PasswordHasher, ScryptPasswordHasher,
                                             get_hasher, make_password)
    from django.core.management import call_command
    from django.test import Client

    from rpms.accounts.models import Role, User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    print("migrating a fresh SQLite database …", flush=True)
    call_command("migrate", verbosity=0)
    hasher = get_hasher()
    defaults = Argon2PasswordHasher()
    print(f"first hasher: {hasher.algorithm} (time_cost {hasher.time_cost}, memory {hasher.memory_cost} KiB, "
          f"parallelism {hasher.parallelism}); Django's Argon2 defaults: time_cost {defaults.time_cost}, "
          f"memory {defaults.memory_cost} KiB, parallelism {defaults.parallelism}; cores: {os.cpu_count()}")

    print("\nhash check alone (ms, median of", args.repeat, "):")
    for h in (Argon2PasswordHasher(), PBKDF2PasswordHasher(), ScryptPasswordHasher()):
        name = h.algorithm
        encoded = h.encode(PASSWORD, h.salt())
        walls, cpus = [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            assert h.verify(PASSWORD, encoded)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        print(f"  {name:14} wall {_median_ms(walls):7}  cpu {_median_ms(cpus):7}")

    client = Client()
    client.get("/accounts/login/")  # the process's first request (URLconf, templates) is not a login's cost
    rows = []
    for i in range(args.repeat):
        user = User.objects.create(username=f"bench_officer_{i}", role=Role.HIRING_ENTITY, display_name="基准测试")
        User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
        timings = []
        for _ in range(2):  # 1st: PBKDF2 checked then upgraded; 2nd: Argon2id
            c = Client()
            t, cpu = time.perf_counter(), time.process_time()
            response = c.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
            timings.append((time.perf_counter() - t, time.process_time() - cpu))
            assert response.status_code == 302, response.status_code
        rows.append(timings)
        assert User.objects.get(pk=user.pk).password.startswith("argon2$")
    print("\npage login POST → 302 (ms, median of", args.repeat, "accounts):")
    for label, i in (("first login, PBKDF2 hash (checked, re-hashed as Argon2id)", 0), ("later logins, Argon2id hash", 1)):
        print(f"  {label:58} wall {_median_ms([r[i][0] for r in rows]):7}  cpu {_median_ms([r[i][1] for r in rows]):7}")
    print("(Argon2 hashes its lanes on several threads, so its CPU time can exceed the wall time; a wall time well "
          "above the CPU time means other processes shared the cores)")


if __name__ == "__main__":
    main()
