"""The audit trail's tamper-evident chain (issue #16 item 4): every row sealed with an SM3 HMAC over its content and
the previous row's MAC; `audit_verify` (command and API) finds a hand-edited or deleted row; the database refuses
deletion; the trail is read by the audit administrator, never by the superuser; sensitive reads are audited."""
import io
import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client

from rpms.accounts.models import Role, User
from rpms.core.audit import ACTION_EXPORT, audit_log
from rpms.core.audit_chain import CHAIN_COLUMNS, compute_mac, verify
from rpms.core.models import ActionLog

PG = connection.vendor == "postgresql"


def _rows(n, **extra):
    rows = []
    for i in range(n):
        with transaction.atomic():
            rows.append(audit_log(actor=None, action="test.chain", object_type="test", object_id=i,
                                  summary=f"第 {i} 条", after={"n": i, "姓名": "张三", "list": [3, 1.5, None]}, **extra))
    return rows


def _as_dba(sql, params=()):
    """What a database administrator can do by hand: lift the trigger, change the table, put the trigger back
    (all inside the test's transaction, rolled back after the test)."""
    with connection.cursor() as cursor:
        if PG:
            cursor.execute("ALTER TABLE core_actionlog DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE core_actionlog ENABLE TRIGGER USER")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_actionlog'")
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
            cursor.execute(sql, params)
            for _, create in triggers:
                cursor.execute(create)


def _verify_command():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.getvalue()), err.getvalue()


@pytest.mark.django_db
def test_each_row_is_sealed_with_an_sm3_hmac_of_its_content_and_the_previous_mac():
    first, second, third = _rows(3)
    total = ActionLog.objects.count()
    assert len({first.mac, second.mac, third.mac}) == 3 and all(len(r.mac) == 64 for r in (first, second, third))
    stored = ActionLog.objects.order_by("id").values_list(*CHAIN_COLUMNS, "mac")
    by_id = {row[0]: row for row in stored}
    values = dict(zip(CHAIN_COLUMNS, by_id[third.pk][:-1], strict=True))
    assert third.mac == by_id[third.pk][-1] == compute_mac(values, second.mac)
    assert third.pk > second.pk > first.pk
    assert verify() == {"ok": True, "rows": total, "first_bad": None}
    assert _verify_command()[:2] == (0, {"ok": True, "rows": total, "first_bad": None})


@pytest.mark.django_db
def test_a_hand_edited_audit_row_is_reported_by_audit_verify_with_its_id():
    rows = _rows(4)
    edited = rows[1]
    _as_dba("UPDATE core_actionlog SET summary = %s WHERE id = %s", ["改过的摘要", edited.pk])
    assert ActionLog.objects.get(pk=edited.pk).summary == "改过的摘要"

    status, result, message = _verify_command()

    assert status != 0
    assert result == {"ok": False, "rows": ActionLog.objects.count(), "first_bad": edited.pk}
    assert str(edited.pk) in message


@pytest.mark.django_db
def test_editing_the_json_the_time_or_the_mac_itself_is_reported():
    rows = _rows(3)
    _as_dba("UPDATE core_actionlog SET after = %s WHERE id = %s", ['{"n": 0, "姓名": "李四", "list": [3, 1.5, null]}',
                                                                     rows[0].pk])
    assert verify()["first_bad"] == rows[0].pk


@pytest.mark.django_db
def test_a_forged_mac_does_not_pass_without_the_key():
    rows = _rows(3)
    _as_dba("UPDATE core_actionlog SET summary = 'x', mac = %s WHERE id = %s", ["0" * 64, rows[2].pk])
    assert verify()["first_bad"] == rows[2].pk


@pytest.mark.django_db
def test_a_deleted_row_is_reported_by_the_first_row_after_the_gap():
    rows = _rows(4)
    _as_dba("DELETE FROM core_actionlog WHERE id = %s", [rows[1].pk])
    result = verify()
    assert result == {"ok": False, "rows": ActionLog.objects.count(), "first_bad": rows[2].pk}


@pytest.mark.django_db
def test_verifying_with_another_key_fails_at_the_first_row(settings):
    rows = _rows(2)
    first_id = ActionLog.objects.order_by("id").values_list("id", flat=True).first()
    settings.RPMS_AUDIT_KEY = "another-key-0123456789-abcdefghijklmnop"
    assert verify() == {"ok": False, "rows": ActionLog.objects.count(), "first_bad": first_id}
    assert rows


@pytest.mark.django_db
def test_verify_streams_the_trail_in_chunks():
    _rows(7)
    total = ActionLog.objects.count()
    assert verify(chunk_size=2)["rows"] == total == verify(chunk_size=2000)["rows"]
    assert verify(chunk_size=2)["ok"]


@pytest.mark.django_db
def test_the_database_refuses_to_delete_a_recent_audit_row():
    (row,) = _rows(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_actionlog WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_actionlog")
    assert ActionLog.objects.filter(pk=row.pk).exists()
    assert verify()["ok"]


@pytest.mark.django_db
def test_rows_cannot_be_bulk_created_around_the_chain():
    from rpms.core.models import AppendOnlyError

    with pytest.raises(AppendOnlyError):
        ActionLog.objects.bulk_create([ActionLog(action="test.bulk")])


# --- concurrency: two writers never fork the chain ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_valid():
    per_thread, threads, errors = 15, 4, []
    barrier = threading.Barrier(threads)

    def writer(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_log(actor=None, action="test.concurrent", object_type="test", object_id=f"{n}-{i}")
                    time.sleep(0.005)  # the transaction stays open after its row: a writer without the lock forks
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    assert ActionLog.objects.filter(action="test.concurrent").count() == per_thread * threads
    assert verify() == {"ok": True, "rows": ActionLog.objects.count(), "first_bad": None}


# --- who reads and checks the trail ----------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("t_root", password="Root-pass-2026!", role=Role.CITY_ADMIN)


@pytest.mark.django_db
def test_verify_api_answers_the_audit_administrator_and_the_auditor(client, bearer, anon, audit_admin, auditor,
                                                                    city_admin, system_admin, security_admin,
                                                                    planner_user, superuser):
    _rows(2)
    total = ActionLog.objects.count()
    for user in (audit_admin, auditor):
        response = client.get("/api/v1/audit/verify", **bearer(user))
        assert response.status_code == 200, user.username
        assert response.json() == {"ok": True, "rows": ActionLog.objects.count(), "first_bad": None}
        assert response.json()["rows"] >= total
    for user in (city_admin, system_admin, security_admin, planner_user, superuser):
        assert client.get("/api/v1/audit/verify", **bearer(user)).status_code == 403, user.username
    assert anon.get("/api/v1/audit/verify").status_code == 401


@pytest.mark.django_db
def test_verify_api_reports_the_edited_row(client, bearer, audit_admin):
    rows = _rows(3)
    _as_dba("UPDATE core_actionlog SET object_repr = 'x' WHERE id = %s", [rows[2].pk])
    response = client.get("/api/v1/audit/verify", **bearer(audit_admin))
    assert response.json() == {"ok": False, "rows": ActionLog.objects.count(), "first_bad": rows[2].pk}


@pytest.mark.django_db
def test_the_superuser_cannot_read_the_audit_trail_anywhere(client, bearer, superuser):
    _rows(1)
    browser = _client(superuser)
    assert browser.get("/audit/").status_code == 403
    assert browser.get("/audit/export.xlsx").status_code == 403
    assert client.get("/api/v1/audit", **bearer(superuser)).status_code == 403
    assert browser.get("/admin/core/actionlog/").status_code == 403
    row = ActionLog.objects.first()
    assert browser.get(f"/admin/core/actionlog/{row.pk}/change/").status_code == 403
    assert browser.get(f"/admin/core/actionlog/{row.pk}/delete/").status_code == 403
    assert "/admin/core/actionlog/" not in browser.get("/admin/").content.decode()
    assert "操作日志" not in browser.get("/").content.decode().split("<main", 1)[0]  # no link in the navigation


@pytest.mark.django_db
def test_the_audit_administrator_reads_and_exports_every_citys_trail(client, bearer, audit_admin, beijing,
                                                                     pingdingshan):
    with transaction.atomic():
        audit_log(actor=None, action="test.bj", city_code="beijing", summary="北京")
        audit_log(actor=None, action="test.pds", city_code="pingdingshan", summary="平顶山")
    browser = _client(audit_admin)
    page = browser.get("/audit/")
    assert page.status_code == 200
    assert "北京" in page.content.decode() and "平顶山" in page.content.decode()
    assert "全部城市" in page.content.decode()
    api = client.get("/api/v1/audit?limit=200", **bearer(audit_admin)).json()
    assert {"test.bj", "test.pds"} <= {item["action"] for item in api["items"]}
    before = ActionLog.objects.filter(action=ACTION_EXPORT).count()
    export = browser.get("/audit/export.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    # the export of the trail is itself audited, with its actor
    row = ActionLog.objects.filter(action=ACTION_EXPORT).order_by("-id").first()
    assert ActionLog.objects.filter(action=ACTION_EXPORT).count() == before + 1
    assert row.actor_id == audit_admin.pk and row.object_type == "core.actionlog"
    assert "/audit/" in browser.get("/").content.decode()  # the navigation leads there


@pytest.mark.django_db
def test_nobody_changes_the_trail_in_the_admin(audit_admin, superuser):
    row = _rows(1)[0]
    browser = _client(superuser)
    assert browser.post(f"/admin/core/actionlog/{row.pk}/change/", {"summary": "x"}).status_code == 403
    assert browser.post(f"/admin/core/actionlog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ActionLog.objects.get(pk=row.pk).summary == row.summary


@pytest.mark.django_db
def test_values_the_database_respells_still_verify():
    """PostgreSQL's jsonb gives 1e16 back as 10000000000000000 and inet normalises addresses: the MAC is over a
    canonical spelling, so an honest row is never reported."""
    from rpms.core.context import current_ip

    token = current_ip.set("2001:DB8:0:0::1")
    try:
        with transaction.atomic():
            audit_log(actor=None, action="test.spelling", after={"big": 1e16, "float": 5.0, "tiny": 1.5e-7,
                                                                  "tuple": (1, 2), 3: "int key", "文字": "中文"})
    finally:
        current_ip.reset(token)
    with transaction.atomic():
        ActionLog.objects.create(action="test.naive_time", at=__import__("datetime").datetime(2026, 3, 1, 8, 30))
    assert verify()["ok"]
