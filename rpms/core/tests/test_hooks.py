"""rpms.core.hooks: a lower layer runs what higher layers registered, inside its own transaction."""
import pytest
from django.db import transaction

from rpms.core import hooks
from rpms.core.models import ActionLog


@pytest.fixture
def handler(monkeypatch):
    """A recording handler, on hooks emptied of the apps' own handlers for the test."""
    monkeypatch.setattr(hooks, "_handlers", {})
    calls = []

    def on_removed(**kwargs):
        calls.append(kwargs)
        return len(calls)

    on_removed.calls = calls
    return on_removed


def test_registered_handlers_run_in_order_with_the_callers_arguments(handler):
    def second(**kwargs):
        return "second"

    hooks.register(hooks.PLANNER_REMOVED, handler)
    hooks.register(hooks.PLANNER_REMOVED, handler)  # ready() may run twice: registered once
    hooks.register(hooks.PLANNER_REMOVED, second)
    answers = hooks.run(hooks.PLANNER_REMOVED, planner="p", ground={"code": "violation"})
    assert answers == [1, "second"]
    assert hooks.run(hooks.TERM_REVIEWS, appointment=None) == []  # nobody registered: nothing runs
    assert handler.calls == [{"planner": "p", "ground": {"code": "violation"}}]


def test_the_apps_register_their_handlers_at_ready():
    from rpms.appointments.removal import planner_removed
    from rpms.assessments.selectors import term_reviews

    assert planner_removed in hooks.handlers(hooks.PLANNER_REMOVED)
    assert term_reviews in hooks.handlers(hooks.TERM_REVIEWS)


def test_an_unknown_hook_name_is_refused_rather_than_running_nothing():
    with pytest.raises(ValueError):
        hooks.run("planner_remvoed")
    with pytest.raises(ValueError):
        hooks.register("planner_remvoed", print)


@pytest.mark.django_db
def test_a_failing_handler_rolls_back_the_callers_act(handler):
    from rpms.core.audit import audit_log

    def broken(**kwargs):
        raise RuntimeError("handler failed")

    hooks.register(hooks.PLANNER_REMOVED, handler)
    hooks.register(hooks.PLANNER_REMOVED, broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_log(actor=None, action="test.act", summary="调用方的操作")
        hooks.run(hooks.PLANNER_REMOVED)
    assert handler.calls == [{}]
    assert not ActionLog.objects.filter(action="test.act").exists()
