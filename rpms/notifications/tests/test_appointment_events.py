"""Issue #11 item 9: appointment, dispatch notice, termination request and its answer, withdrawal, removal
and the end of a posting reach each party's inbox and e-mail (after commit), once."""
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.appointments import services
from rpms.appointments.models import TerminationRequest
from rpms.notifications.models import Notification
from rpms.notifications.reminders import reminders_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def pds_parties(make_user, make_planner, pingdingshan, pds_unit, pds_admin):
    """A Pingdingshan planner, the unit's street office and district officer (all with e-mail)."""
    planner = make_planner(pingdingshan, email="planner@example.com", name="派驻提醒规划师")
    subdistrict = pds_unit.current_subdistricts[0]
    entity = make_user(Role.HIRING_ENTITY, email="street@example.com", city=pingdingshan, subdistricts=[subdistrict])
    officer = make_user(Role.DISTRICT_OFFICER, email="district@example.com", city=pingdingshan,
                        districts=[pds_unit.district])
    pds_admin.email = "bureau@example.com"
    pds_admin.save(update_fields=["email"])
    return {"planner": planner, "entity": entity, "officer": officer, "admin": pds_admin, "unit": pds_unit}


def _inbox(user, event):
    return list(Notification.objects.filter(recipient=user, event=f"appointment.{event}"))


def _appoint(parties, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.appointment_create(
            actor=parties["admin"], planner=parties["planner"], unit=parties["unit"], role="responsible_planner",
            start=timezone.localdate(),
        )


def test_the_dispatch_notice_reaches_the_planner_and_the_local_government_by_inbox_and_mail_after_commit(
        pds_parties, django_capture_on_commit_callbacks):
    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    for who in ("planner", "entity", "officer"):
        user = pds_parties[who] if who != "planner" else pds_parties["planner"].user
        items = _inbox(user, "appointed")
        assert len(items) == 1, who
        assert items[0].title.startswith("派驻通知") and "派驻提醒规划师" in items[0].title
        assert items[0].url.endswith(f"/{appointment.pk}/")
    # the bureau appointed: it is not told of its own act
    assert _inbox(pds_parties["admin"], "appointed") == []
    assert {m.to[0] for m in mail.outbox} == {"planner@example.com", "street@example.com", "district@example.com"}


def test_no_mail_leaves_when_the_act_is_rolled_back(pds_parties, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.appointment_create(
                    actor=pds_parties["admin"], planner=pds_parties["planner"], unit=pds_parties["unit"],
                    role="responsible_planner", start=timezone.localdate(),
                )
                raise RuntimeError("refused later in the same act")
        except RuntimeError:
            pass
    assert callbacks == [] and mail.outbox == [] and not Notification.objects.exists()


def test_an_event_is_announced_once(pds_parties, django_capture_on_commit_callbacks):
    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    notice = appointment._issued[0]
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_event("appointed", appointment, notice)
    assert len(_inbox(pds_parties["planner"].user, "appointed")) == 1 and len(mail.outbox) == sent


def test_a_termination_request_and_its_answer_reach_the_other_party(pds_parties, django_capture_on_commit_callbacks):
    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    planner_user = pds_parties["planner"].user
    with django_capture_on_commit_callbacks(execute=True):
        services.termination_request(actor=planner_user, appointment=appointment, initiator="planner",
                                     reason="工作调动，无法继续履行合同")
    # Pingdingshan: the bureau signs the contract (P6(3)), so it answers; the district hears of it
    assert [n.title for n in _inbox(pds_parties["admin"], "termination_requested")] == [
        f"解除聘用合同申请：派驻提醒规划师 · {appointment.unit.district.name}{appointment.unit.name}"
    ]
    assert len(_inbox(pds_parties["officer"], "termination_requested")) == 1
    assert _inbox(planner_user, "termination_requested") == []  # the planner acted
    with django_capture_on_commit_callbacks(execute=True):
        services.termination_refuse(actor=pds_parties["admin"], appointment=appointment, reason="项目推进关键期")
    refused = _inbox(planner_user, "termination_refused")
    assert len(refused) == 1 and "项目推进关键期" in refused[0].body
    assert "planner@example.com" in {m.to[0] for m in mail.outbox if "未获同意" in m.subject}
    with django_capture_on_commit_callbacks(execute=True):
        services.termination_request(actor=planner_user, appointment=appointment, initiator="planner",
                                     reason="身体原因")
        services.termination_consent(actor=pds_parties["admin"], appointment=appointment)
    consented = _inbox(planner_user, "termination_consented")
    assert len(consented) == 1 and timezone.localdate().isoformat() in consented[0].body
    # two requests, two announcements to the bureau (one per request)
    assert len(_inbox(pds_parties["admin"], "termination_requested")) == 2
    assert TerminationRequest.objects.filter(appointment=appointment).count() == 2


def test_a_withdrawal_reaches_the_bureau_the_street_and_the_district(pds_parties, django_capture_on_commit_callbacks):
    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        services.withdrawal_request(actor=pds_parties["planner"].user, appointment=appointment, leave_date=earliest,
                                    reason="工作变动")
    for who in ("admin", "entity", "officer"):
        items = _inbox(pds_parties[who], "withdrawal_requested")
        assert len(items) == 1 and earliest.isoformat() in items[0].body, who


def test_a_removal_tells_every_party_that_the_posting_ended(pds_parties, django_capture_on_commit_callbacks):
    from rpms.registry.services import planner_remove

    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        planner_remove(actor=pds_parties["admin"], planner=pds_parties["planner"], ground="voluntary_withdrawal",
                       note="本人申请")
    for who in ("planner", "entity", "officer"):
        user = pds_parties[who] if who != "planner" else pds_parties["planner"].user
        items = _inbox(user, "posting_removed")
        assert len(items) == 1 and "待调整补位" in items[0].body and appointment.unit.name in items[0].title, who
    assert _inbox(pds_parties["admin"], "posting_removed") == []  # the bureau removed the planner itself


def test_the_end_of_a_term_without_renewal_is_announced_once_by_the_daily_run(pds_parties, pingdingshan,
                                                                             django_capture_on_commit_callbacks):
    appointment = _appoint(pds_parties, django_capture_on_commit_callbacks)
    before = appointment.end
    assert reminders_send(city=pingdingshan, today=before).sent.get("posting_ended", 0) == 0  # still serving
    run = reminders_send(city=pingdingshan, today=before + dt.timedelta(days=1))
    assert run.sent["posting_ended"] == 4  # planner, street office, district officer, the bureau (it signs)
    items = Notification.objects.filter(event="reminder.posting_ended", recipient=pds_parties["planner"].user)
    assert items.count() == 1 and f"{before.year}年{before.month}月{before.day}日" in items.get().body
    again = reminders_send(city=pingdingshan, today=before + dt.timedelta(days=2))
    assert again.sent.get("posting_ended", 0) == 0
