"""The audit trail: one row per successful service call in the same transaction, none for a
failed one, and append-only below the UI (database triggers)."""
import pytest
from django.db import DatabaseError, connection, transaction

from rpms.accounts.models import Role
from rpms.accounts.services import user_create
from rpms.core.audit import audit_log
from rpms.core.context import current_ip
from rpms.core.errors import DomainError
from rpms.core.models import ActionLog, AppendOnlyError

pytestmark = pytest.mark.django_db


def test_a_successful_service_writes_exactly_one_row_with_actor_ip_and_change(beijing, city_admin):
    from rpms.cities.services import policy_update

    before = ActionLog.objects.count()
    token = current_ip.set("10.1.2.3")
    try:
        policy_update(actor=city_admin, city=beijing, changes={"notice_working_days": 6})
    finally:
        current_ip.reset(token)
    assert ActionLog.objects.count() == before + 1
    row = ActionLog.objects.latest("id")
    assert (row.actor, row.actor_repr, row.ip, row.action, row.city_code) == (
        city_admin, "t_city_admin", "10.1.2.3", "cities.policy_update", "beijing"
    )
    assert row.before == {"notice_working_days": 5} and row.after == {"notice_working_days": 6}


def test_a_failed_service_leaves_no_row_and_no_change(beijing, haidian, chaoyang, district_haidian):
    from rpms.geography.models import ResponsibilityUnit
    from rpms.geography.services import unit_merge

    before_rows = ActionLog.objects.count()
    before_units = ResponsibilityUnit.objects.filter(dissolved_at__isnull=True).count()
    mixed = [haidian.subdistricts.first(), chaoyang.subdistricts.first()]
    with pytest.raises(DomainError):
        unit_merge(actor=district_haidian, subdistricts=mixed, name="跨区单元")
    assert ActionLog.objects.count() == before_rows
    assert ResponsibilityUnit.objects.filter(dissolved_at__isnull=True).count() == before_units


def test_a_service_failing_after_its_audit_row_rolls_the_row_back(beijing):
    before = ActionLog.objects.count()
    with pytest.raises(DomainError):
        # user_create audits only after validation; a weak password fails before anything is written
        user_create(actor=None, username="x", password="weak", role=Role.PLANNER, city=beijing)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            audit_log(actor=None, action="test.partial", object_type="test", object_id=1)
            raise Boom()
    assert ActionLog.objects.count() == before


def test_audit_rows_cannot_be_written_outside_a_transaction():
    # pytest-django wraps each test in a transaction; pretend we are outside one to prove the guard.
    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with pytest.raises(RuntimeError):
            audit_log(actor=None, action="test.outside")
    finally:
        connection.in_atomic_block = saved


def test_rows_cannot_be_changed_or_deleted_through_the_orm():
    with transaction.atomic():
        row = audit_log(actor=None, action="test.row", object_type="test", object_id=1)
    row.summary = "篡改"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        ActionLog.objects.filter(pk=row.pk).update(summary="篡改")
    with pytest.raises(AppendOnlyError):
        ActionLog.objects.filter(pk=row.pk).delete()


def test_the_database_itself_refuses_updates_below_the_orm():
    with transaction.atomic():
        row = audit_log(actor=None, action="test.row", object_type="test", object_id=1)
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_actionlog SET summary = 'x' WHERE id = %s", [row.pk])
    row.refresh_from_db()
    assert row.summary == ""


def test_the_database_refuses_deletes():
    with transaction.atomic():
        row = audit_log(actor=None, action="test.row", object_type="test", object_id=1)
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_actionlog WHERE id = %s", [row.pk])
    assert ActionLog.objects.filter(pk=row.pk).exists()
