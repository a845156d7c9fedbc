"""`planner_lock`, the serialisation point of the B19(2) unit cap, on PostgreSQL: it holds the planner's row
against another act on the same planner, and nothing else — not the city's row (Planner's ordering joins
the city), not the foreign-key checks of rows that refer to the planner. Locking more made every write of the
city wait for each appointment, and deadlocked under load (tests/test_concurrency_live.py). On SQLite a
transaction holds the whole database anyway (IMMEDIATE), so the test is PostgreSQL's."""
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction  # noqa: F401 - read by skipif

from rpms.registry.models import Planner, TeamMember
from rpms.registry.services import planner_lock

pytestmark = pytest.mark.django_db(transaction=True)


def _planner(city, name):
    return Planner.objects.create(city=city, name=name, employer="虚构规划设计研究院", is_fictional=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL: run with scripts/with-postgres.sh")
def test_a_planner_lock_holds_the_planner_against_its_own_acts_and_nothing_else(beijing):
    planner = _planner(beijing, "锁定测试规划师（虚构）")
    locked, release = threading.Event(), threading.Event()
    failures = []

    def hold():
        try:
            with transaction.atomic():
                assert planner_lock(planner).pk == planner.pk
                locked.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            failures.append(exc)
            locked.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30) and not failures, failures
        # Rows that refer to the city and to the locked planner commit at once (their foreign keys are checked
        # with FOR KEY SHARE when the transaction commits, within the lock timeout).
        with transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '3s'")
            other = _planner(beijing, "同城另一规划师（虚构）")
            TeamMember.objects.create(planner=planner, name="成员甲（虚构）")
        assert Planner.objects.filter(pk=other.pk).exists()
        # Another act on the same planner waits for the lock.
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            connection.cursor().execute("SET LOCAL lock_timeout = '500ms'")
            planner_lock(planner)
    finally:
        release.set()
        holder.join(timeout=30)
    assert not failures, failures


def test_planner_lock_finds_nothing_for_an_unknown_planner(beijing):
    with transaction.atomic():
        assert planner_lock(10**9) is None
