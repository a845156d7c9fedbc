"""B19(2) under concurrency: parallel approvals appointing one planner to more units than the cap yield
exactly the cap; the rest are refused with 409. Real threads, each with its own database connection
and its own transaction, on both databases: PostgreSQL serialises them on the planner's row
(registry.services.planner_lock), SQLite in the writers' queue of the process (rpms.core.sqlite; without it
they fail with "database table is locked"). The same over HTTP against a live server:
tests/test_concurrency_live.py."""
import threading

import pytest
from django.db import connections

from rpms.appointments import services
from rpms.appointments.models import Appointment
from rpms.core.errors import Conflict

from .conftest import make_planner, units_of

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_parallel_appointments_of_one_planner_stop_exactly_at_the_cap(reference, haidian):
    city = haidian.city
    cap = city.policy.max_units_per_planner
    assert cap == 3
    planner = make_planner(city, "并发测试规划师")
    units = units_of(haidian, THREADS)
    assert len(units) == THREADS > cap

    # Beijing (local selection): one proposal per unit by its entity; the district approves them at once.
    from rpms.appointments import proposals
    from rpms.core import clock
    from rpms.testing.builders import district_user_for, entity_user_for

    officer = district_user_for(units[0])
    pending = {unit.pk: proposals.proposal_submit(actor=entity_user_for(unit), planner=planner, unit=unit,
                                                  role="responsible_planner", start=clock.today())
               for unit in units}
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def appoint(unit):
        try:
            barrier.wait(timeout=30)
            proposals.proposal_approve(actor=officer, proposal=pending[unit.pk])
            result = "ok"
        except Conflict as exc:
            result = f"409:{exc.code}"
        except Exception as exc:  # noqa: BLE001 - any other failure must show in the assertion
            result = f"error:{type(exc).__name__}:{exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=appoint, args=(unit,)) for unit in units]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == THREADS, outcomes
    assert outcomes.count("ok") == cap, outcomes
    assert outcomes.count("409:unit_cap_reached") == THREADS - cap, outcomes
    assert Appointment.objects.filter(planner=planner).count() == cap
    assert Appointment.objects.filter(planner=planner).values("unit").distinct().count() == cap
