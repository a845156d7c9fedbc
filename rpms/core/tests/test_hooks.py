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


def test_the_higher_apps_answer_for_the_lower_ones_through_hooks_and_registries():
    """Issue #14 item 1: the latest grade, the coverage, pending work and reminders reach the lower apps
    through registrations made at ready(), not through upward imports."""
    from rpms.appointments.selectors import covered_unit_ids
    from rpms.assessments.selectors import grade_scores, latest_grade_code, renewal_refusal
    from rpms.core import pending
    from rpms.notifications.reminders import REMINDER_PROVIDERS

    assert latest_grade_code in hooks.handlers(hooks.LATEST_GRADE)
    assert renewal_refusal in hooks.handlers(hooks.RENEWAL_REFUSAL)
    assert grade_scores in hooks.handlers(hooks.GRADE_SCORES)
    assert covered_unit_ids in hooks.handlers(hooks.COVERED_UNITS)
    providers = {p.__module__ for p in pending.PENDING_PROVIDERS}
    assert {f"rpms.{app}.{module}" for app, module in [
        ("appointments", "selectors"), ("registry", "selectors"), ("assessments", "selectors"), ("cases", "selectors"),
        ("dispatch", "pending"), ("duties", "pending"), ("finance", "pending"), ("opinions", "pending"),
        ("suggestions", "pending"), ("training", "pending"),
    ]} <= providers
    assert {p.__name__ for p in REMINDER_PROVIDERS} == {
        "notice_end_reminders", "objection_reminders", "contract_expiry_reminders", "posting_ended_reminders",
        "withdrawal_reminders", "assessment_due_reminders", "allowance_due_reminders", "fee_overdue_reminders",
        "suggestion_overdue_reminders",
    }
