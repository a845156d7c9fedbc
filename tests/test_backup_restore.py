"""Issue #13 (6), the restore drill: a world made through the real services (both cities, the personas, an
admission with its uploaded proof, filed appointments with their signed contracts, a resident's suggestion with
a photo, a login), `manage.py backup`, a wipe (flush and the files deleted), `manage.py restore --yes`; then
every table's row count and content, every file's bytes and every audit row are what they were, and the restore
is itself on the audit trail. A damaged or foreign archive, or a restore without --yes, is refused and changes
nothing. Runs on SQLite (in memory, and a WAL file database through the command line as `make run` uses it) and
on PostgreSQL (scripts/with-postgres.sh)."""
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from rpms.core import backup
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def roots(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return {"media": settings.MEDIA_ROOT, "private": settings.PRIVATE_MEDIA_ROOT}


def jpeg(name="路灯.jpg"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (40, 90, 200)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def unit_of(city, subdistrict_code):
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.get(city=city, dissolved_at__isnull=True,
                                          memberships__subdistrict__code=subdistrict_code,
                                          memberships__left_at__isnull=True)


def orm_snapshot() -> dict:
    """Per table (every model's, the many-to-many ones included): the row count and a digest of every row,
    read through the ORM — independent of the checksums rpms.core.backup computes."""
    data = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        data[model._meta.db_table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return data


def files_snapshot(roots) -> dict:
    return {f"{area}/{path.relative_to(root).as_posix()}": path.read_bytes()
            for area, root in roots.items() if root.exists() for path in sorted(root.rglob("*")) if path.is_file()}


def audit_rows() -> list[dict]:
    return list(ActionLog.objects.order_by("id").values())


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- the drill ------------------------------------------------------------------------------------------------------

@pytest.fixture
def world(roots, beijing, pingdingshan, city_admin, pds_admin, district_haidian, street_office, planner_user,
          auditor, login):
    """A small but complete world, made through the services as users would make it."""
    from rpms.suggestions.services import suggestion_submit
    from rpms.testing import builders

    today = timezone.localdate()
    # Pingdingshan admits by open call (P5): the applicant uploads a proof, the bureau reviews, publishes, admits.
    [pds_planner] = builders.pool_admit_by_notice(
        city=pingdingshan, people=[builders.person_data(pingdingshan, 1)], start=today - dt.timedelta(days=60),
        admin=pds_admin)
    # Beijing commissions directly (B19(1)).
    bj_planner = builders.pool_commission(city=beijing, person=builders.person_data(beijing, 2, districts=["110108"]),
                                          admin=city_admin)
    # Both appointed and filed: the signer uploads the signed contract (a private PDF).
    builders.appointment_build(unit=unit_of(beijing, "110108001"), planner=bj_planner, filed=True)
    builders.appointment_build(unit=unit_of(pingdingshan, "410402001"), planner=pds_planner, filed=True)
    # A resident reports a problem with a photo (a private JPEG, metadata stripped by the upload service).
    suggestion_submit(actor=None, unit=unit_of(beijing, "110108001"), category="problem",
                      content="小区东门外人行道的路灯坏了，晚上很暗。", contact_name="王测试居民",
                      contact_phone="13912345678", photos=[jpeg()])
    login(planner_user)  # a session row
    default_storage.save("exports/说明.txt", ContentFile("公开下载的说明文件（测试）".encode()))  # MEDIA_ROOT


@pytest.fixture
def drop_afterwards():
    """Names of tables or views a test creates by hand, dropped at its end whatever happened."""
    created = []
    yield created
    with connection.cursor() as cursor:
        for kind, name in reversed(created):
            cursor.execute(f"DROP {kind} IF EXISTS {name}")


def test_the_drill_backup_wipe_restore_gives_back_every_row_file_and_audit_row(world, roots, tmp_path,
                                                                               drop_afterwards):
    tables_before = orm_snapshot()
    fingerprints_before = backup.database_fingerprints()
    files_before = files_snapshot(roots)
    audit_before = audit_rows()
    private = [name for name in files_before if name.startswith("private/")]
    assert len(private) >= 4, private  # the proof, two signed contracts, the photo
    assert {Path(name).suffix for name in private} >= {".pdf", ".jpg"}
    assert "media/exports/说明.txt" in files_before
    assert len(audit_before) > 10

    archive = tmp_path / "backups" / "drill.tar"
    archive.parent.mkdir()
    out = run("backup", str(archive))
    assert "备份完成" in out and "已重新读出，全部一致" in out
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds every personal datum
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[-1] == "manifest.json" and backup.DB_MEMBERS[connection.vendor] in names
    assert set(names) == {"manifest.json", backup.DB_MEMBERS[connection.vendor], *files_before}
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["tables"] == fingerprints_before
    assert manifest["database"]["migrations"]["core"][:2] == ["0001_initial", "0002_actionlog_append_only_triggers"]
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files_before.items()}
    backup_row = ActionLog.objects.get(action="core.data_backup")  # written after the snapshot: not in it
    assert backup_row.after["checksum"] == hashlib.sha256(
        tarfile.open(archive).extractfile("manifest.json").read()).hexdigest()

    # The wipe: every row and every file gone, and a table a newer version might have added.
    call_command("flush", interactive=False, verbosity=0)
    for root in roots.values():
        shutil.rmtree(root)
    drop_afterwards.append(("TABLE", "zz_newer_feature"))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE zz_newer_feature (id integer PRIMARY KEY, "
                       "user_id bigint REFERENCES accounts_user (id))")
    assert ActionLog.objects.count() == 0 and not files_snapshot(roots)

    out = run("restore", str(archive), "--yes")
    assert "恢复完成" in out and "与清单全部一致" in out

    after = orm_snapshot()
    assert {t: v for t, v in after.items() if t != "core_actionlog"} == {
        t: v for t, v in tables_before.items() if t != "core_actionlog"}
    assert files_snapshot(roots) == files_before  # every file, byte for byte
    # The audit trail: every row as it was, then one row for the restore citing the archive.
    rows = audit_rows()
    assert rows[:-1] == audit_before
    restore_row = ActionLog.objects.get(pk=rows[-1]["id"])
    assert restore_row.action == "core.data_restore" and "数据恢复" in restore_row.summary
    assert restore_row.after["created_at"] == manifest["created_at"]
    assert restore_row.after["checksum"] == backup_row.after["checksum"] == restore_row.object_id
    assert manifest["created_at"] in restore_row.summary
    # Before that row, the database equals the archive table by table, the audit table included.
    now = backup.database_fingerprints()
    assert "zz_newer_feature" not in now
    assert {t: v for t, v in now.items() if t != "core_actionlog"} == {
        t: v for t, v in fingerprints_before.items() if t != "core_actionlog"}
    assert now["core_actionlog"]["rows"] == fingerprints_before["core_actionlog"]["rows"] + 1
    # The restored audit trail is still append-only.
    with pytest.raises(Exception), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_actionlog SET summary = 'x'")


# --- refusals -------------------------------------------------------------------------------------------------------

@pytest.fixture
def small_world(roots, db):
    """Two accounts (audited) and two private files stored by the real upload service."""
    from rpms.accounts.models import Role
    from rpms.accounts.services import user_create
    from rpms.core.uploads import proof_store
    from rpms.testing.builders import signed_pdf

    user_create(actor=None, username="bk_auditor", password="Backup-drill-2026!", role=Role.AUDITOR)
    user_create(actor=None, username="bk_auditor2", password="Backup-drill-2026!", role=Role.AUDITOR)
    proof_store(signed_pdf("扫描件.pdf"), folder="applications")
    proof_store(jpeg(), folder="suggestions")
    default_storage.save("exports/a.txt", ContentFile(b"public"))


@pytest.fixture
def archive(small_world, tmp_path):
    path = tmp_path / "small.tar"
    run("backup", str(path), "--no-verify")
    return path


def state(roots):
    return orm_snapshot(), files_snapshot(roots)


def left_behind(roots) -> list:
    return [p for root in roots.values() if root.exists() for p in root.iterdir() if p.name.startswith(".rpms-")]


def flip_byte_in(path: Path, member: str) -> None:
    with tarfile.open(path) as tar:
        offset = tar.getmember(member).offset_data
    with open(path, "r+b") as handle:
        handle.seek(offset + 3)
        byte = handle.read(1)
        handle.seek(offset + 3)
        handle.write(bytes([byte[0] ^ 0xFF]))


def rewrite(path: Path, target: Path, change) -> None:
    """Copies the archive with its manifest changed by `change(manifest) -> {old member name: new name}`."""
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        renames = change(manifest) or {}
        with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
            for member in tar.getmembers():
                if member.name == "manifest.json":
                    continue
                data = tar.extractfile(member).read()
                member.name = renames.get(member.name, member.name)
                out.addfile(member, io.BytesIO(data))
            raw = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(raw)
            out.addfile(info, io.BytesIO(raw))


def private_member(path: Path) -> str:
    with tarfile.open(path) as tar:
        return next(n for n in tar.getnames() if n.startswith("private/"))


CORRUPTIONS = {
    "a byte of a private file flipped": (lambda p: flip_byte_in(p, private_member(p)), "SHA-256"),
    "a byte of the database flipped": (lambda p: flip_byte_in(p, backup.DB_MEMBERS[connection.vendor]), "SHA-256"),
    "cut short": (lambda p: os.truncate(p, p.stat().st_size // 2), "不完整"),
    "not an archive at all": (lambda p: p.write_bytes(b"%PDF-1.4 definitely not a tar" * 100), "tar"),
    "a file slipped in": (lambda p: _append(p, "private/evil.pdf", b"%PDF-1.4\n%%EOF\n"), "清单之外"),
}


def _append(path: Path, name: str, data: bytes) -> None:
    with tarfile.open(path, "a") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_a_damaged_archive_is_refused_before_anything_changes(archive, roots, damage):
    corrupt, message = CORRUPTIONS[damage]
    corrupt(archive)
    before = state(roots)
    with pytest.raises(CommandError) as refused:
        run("restore", str(archive), "--yes")
    assert str(refused.value).startswith("恢复失败：") and message in str(refused.value)
    with pytest.raises(CommandError):
        run("restore", str(archive), "--check")
    assert state(roots) == before and not left_behind(roots)


def test_restore_without_yes_is_refused_and_says_what_it_would_replace(archive, roots):
    call_command("flush", interactive=False, verbosity=0)
    before = state(roots)
    with pytest.raises(CommandError) as refused:
        run("restore", str(archive))
    assert "--yes" in str(refused.value) and "全部数据" in str(refused.value) and "不可撤销" in str(refused.value)
    assert state(roots) == before
    assert "校验通过" in run("restore", str(archive), "--check")  # the archive itself is fine
    assert state(roots) == before


def test_an_archive_of_the_other_database_vendor_is_refused(archive, roots, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def to_other_vendor(manifest):
        old = manifest["database"]["member"]
        manifest["database"].update(vendor=other, member=backup.DB_MEMBERS[other])
        return {old: backup.DB_MEMBERS[other]}

    foreign = tmp_path / "foreign.tar"
    rewrite(archive, foreign, to_other_vendor)
    before = state(roots)
    with pytest.raises(CommandError) as refused:
        run("restore", str(foreign), "--yes")
    assert "数据库类型不符" in str(refused.value) and backup.VENDOR_LABELS[other] in str(refused.value)
    assert state(roots) == before and not left_behind(roots)


def test_an_archive_from_a_newer_version_is_refused(archive, roots, tmp_path):
    newer = tmp_path / "newer.tar"
    rewrite(archive, newer, lambda m: m["database"]["migrations"]["core"].append("9999_from_the_future"))
    before = state(roots)
    with pytest.raises(CommandError) as refused:
        run("restore", str(newer), "--yes")
    assert "core.9999_from_the_future" in str(refused.value) and "新" in str(refused.value)
    assert state(roots) == before


def test_a_failing_database_step_puts_the_files_back_and_changes_nothing(archive, roots, monkeypatch,
                                                                         drop_afterwards):
    from rpms.accounts.models import Role
    from rpms.accounts.services import user_create
    from rpms.core.uploads import proof_store
    from rpms.testing.builders import signed_pdf

    # Since the backup: one account and one file more.
    user_create(actor=None, username="bk_later", password="Backup-drill-2026!", role=Role.AUDITOR)
    proof_store(signed_pdf("后来的扫描件.pdf"), folder="applications")
    if connection.vendor == "postgresql":
        # A real failure: a view on a table the restore drops and recreates (pg_restore --clean does not cascade).
        drop_afterwards.append(("VIEW", "zz_report"))
        with connection.cursor() as cursor:
            cursor.execute("CREATE VIEW zz_report AS SELECT id, username FROM accounts_user")
        expected = "事务已回滚，数据库未改动"
    else:
        def locked(*args, **kwargs):
            raise backup.BackupError("替换 SQLite 数据库失败（database is locked），数据库未改动。")

        monkeypatch.setattr(backup, "_restore_sqlite", locked)
        expected = "数据库未改动"
    before = state(roots)
    with pytest.raises(CommandError) as refused:
        run("restore", str(archive), "--yes")
    assert expected in str(refused.value)
    assert state(roots) == before and not left_behind(roots)  # the files swapped in were swapped back
    assert not ActionLog.objects.filter(action="core.data_restore").exists()


def test_postgresql_programs_get_the_password_from_the_environment_never_the_command_line(archive, monkeypatch,
                                                                                          tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "Pg-secret-4711")  # the test cluster trusts anyway
    calls = []
    real_popen, real_run = subprocess.Popen, subprocess.run

    def popen(args, *a, **kw):
        calls.append((list(args), kw.get("env") or {}))
        return real_popen(args, *a, **kw)

    def run_(args, *a, **kw):
        calls.append((list(args), kw.get("env") or {}))
        return real_run(args, *a, **kw)

    monkeypatch.setattr(backup.subprocess, "Popen", popen)
    monkeypatch.setattr(backup.subprocess, "run", run_)
    run("backup", str(tmp_path / "pw.tar"))
    run("restore", str(archive), "--yes")
    programs = {Path(args[0]).name for args, _env in calls}
    assert {"pg_dump", "pg_restore", "psql"} <= programs
    for args, env in calls:
        assert not any("Pg-secret-4711" in arg for arg in args), args
        if Path(args[0]).name in ("pg_dump", "psql") and "--version" not in args:
            assert env["PGPASSWORD"] == "Pg-secret-4711"


# --- the command line on a file database, as `make run` keeps it ----------------------------------------------------

def cli(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args, "--skip-checks"], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_commands_restore_a_wal_file_database_like_make_run_uses(small_world, roots, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite file database (var/db.sqlite3) only")
    db_file = tmp_path / "db.sqlite3"
    target = sqlite3.connect(db_file)
    connection.ensure_connection()
    connection.connection.backup(target)  # the migrated test database, as a file
    target.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": f"sqlite:///{db_file}",
           "MEDIA_ROOT": str(roots["media"]), "PRIVATE_MEDIA_ROOT": str(roots["private"])}

    def read(sql):
        conn = backup.sqlite_connect(f"file:{db_file}")
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    done = cli("backup", str(tmp_path / "file.tar"), env=env)
    assert done.returncode == 0, done.stderr
    assert read("PRAGMA journal_mode") == [("wal",)]  # the server's settings made it WAL
    conn = sqlite3.connect(db_file)
    tables_before = backup._sqlite_fingerprints(conn)
    audit_before = conn.execute("SELECT * FROM core_actionlog WHERE action != 'core.data_backup' ORDER BY id").fetchall()
    conn.close()
    files_before = files_snapshot(roots)

    conn = sqlite3.connect(db_file)
    with conn:
        conn.execute("DROP TRIGGER core_actionlog_no_delete")  # the trail refuses DELETE: the damage is a DBA's
        conn.execute("DELETE FROM core_actionlog")
        conn.execute("DELETE FROM accounts_user_groups")
        conn.execute("UPDATE accounts_user SET display_name = '被改动'")
    conn.close()
    shutil.rmtree(roots["private"])

    refused = cli("restore", str(tmp_path / "file.tar"), env=env)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    done = cli("restore", str(tmp_path / "file.tar"), "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert "恢复完成" in done.stdout

    conn = sqlite3.connect(db_file)
    tables_after = backup._sqlite_fingerprints(conn)
    audit_after = conn.execute("SELECT * FROM core_actionlog ORDER BY id").fetchall()
    last_action = conn.execute("SELECT action FROM core_actionlog ORDER BY id DESC LIMIT 1").fetchone()[0]
    conn.close()
    assert {t: v for t, v in tables_after.items() if t != "core_actionlog"} == {
        t: v for t, v in tables_before.items() if t != "core_actionlog"}
    # The backup's own row came after its snapshot; the restore's row comes last.
    assert audit_after[:-1] == audit_before
    assert last_action == "core.data_restore"
    assert files_snapshot(roots) == files_before
    assert read("PRAGMA journal_mode") == [("wal",)] and read("PRAGMA integrity_check") == [("ok",)]
