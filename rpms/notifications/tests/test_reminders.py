"""Daily reminders: each provider reminds the right people; the command sends each item once, and again
only when its deadline changes; a failing provider does not stop the others."""
import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from rpms.core.models import ActionLog
from rpms.notifications import reminders
from rpms.notifications.models import Notification
from rpms.appointments import reminders as appointment_reminders
from rpms.assessments.reminders import service_year_end
from rpms.recruitment import reminders as recruitment_reminders
from rpms.suggestions import reminders as suggestion_reminders

pytestmark = pytest.mark.django_db


def _recipients(items):
    return {user.username for item in items for user in item.users}


# --- notice ends / objections ------------------------------------------------------------------------------


def test_a_notice_ending_by_the_next_working_day_reminds_the_city_admins(pds_notice, pingdingshan, pds_admin, city_admin):
    notice, _ = pds_notice
    items = recruitment_reminders.notice_end_reminders(city=pingdingshan, today=notice.end)
    assert [i.item for i in items] == [f"notice:{notice.pk}"]
    assert _recipients(items) == {pds_admin.username}  # not Beijing's administrator
    assert items[0].deadline == notice.end
    assert "公示即将结束" in items[0].title
    assert items[0].url.endswith(f"/recruitment/manage/notices/{notice.pk}/")


def test_a_notice_in_its_first_days_is_not_reminded(pds_notice, pingdingshan, pds_admin):
    notice, _ = pds_notice
    assert recruitment_reminders.notice_end_reminders(city=pingdingshan, today=notice.start) == []


def test_an_ended_notice_not_yet_closed_is_reminded_as_waiting_for_admission(pds_notice, pingdingshan, pds_admin):
    notice, _ = pds_notice
    items = recruitment_reminders.notice_end_reminders(city=pingdingshan, today=notice.end + dt.timedelta(days=3))
    assert len(items) == 1 and "公示期已满" in items[0].title


def test_a_closed_notice_is_not_reminded(pds_notice, pingdingshan, pds_admin):
    notice, _ = pds_notice
    notice.closed_at = timezone.now()
    notice.save(update_fields=["closed_at"])
    assert recruitment_reminders.notice_end_reminders(city=pingdingshan, today=notice.end) == []


def test_an_unresolved_objection_reminds_the_city_admins_until_it_is_resolved(pds_notice, pingdingshan, pds_admin):
    from rpms.recruitment import services

    notice, application = pds_notice
    objection = services.objection_submit(
        notice=notice, application_id=application.pk, content="反映该候选人不熟悉本地情况", contact_name="居民乙",
        contact_phone="13800000000",
    )
    items = recruitment_reminders.objection_reminders(city=pingdingshan, today=notice.start)
    assert [i.item for i in items] == [f"objection:{objection.pk}"]
    assert _recipients(items) == {pds_admin.username}
    assert items[0].deadline == notice.end
    assert "13800000000" not in items[0].body and "居民乙" not in items[0].body  # no objector's contact details
    services.objection_resolve(actor=pds_admin, objection=objection, upheld=False, finding="经核查，反映情况不属实。")
    assert recruitment_reminders.objection_reminders(city=pingdingshan, today=notice.start) == []


# --- contracts and withdrawals ----------------------------------------------------------------------------------


def test_contract_expiry_reminds_the_district_the_hiring_entity_and_the_planner(
    beijing, bj_unit, city_admin, district_haidian, district_chaoyang, street_office, make_planner, appoint
):
    planner = make_planner(beijing)
    appointment = appoint(city_admin, planner, bj_unit)
    too_early = appointment.end - dt.timedelta(days=beijing.policy.contract_expiry_warning_days + 1)
    assert appointment_reminders.contract_expiry_reminders(city=beijing, today=too_early) == []
    items = appointment_reminders.contract_expiry_reminders(city=beijing, today=appointment.end - dt.timedelta(days=10))
    assert [i.item for i in items] == [f"appointment:{appointment.pk}"]
    assert _recipients(items) == {district_haidian.username, street_office.username, planner.user.username}
    assert items[0].deadline == appointment.end


def test_where_the_city_bureau_signs_contract_expiry_also_reminds_the_city_admins(
    pingdingshan, pds_unit, pds_admin, make_planner, make_user, appoint
):
    from rpms.accounts.models import Role

    officer = make_user(Role.DISTRICT_OFFICER, city=pingdingshan, districts=[pds_unit.district])
    planner = make_planner(pingdingshan)
    appointment = appoint(pds_admin, planner, pds_unit)
    items = appointment_reminders.contract_expiry_reminders(city=pingdingshan, today=appointment.end - dt.timedelta(days=1))
    assert _recipients(items) == {pds_admin.username, officer.username, planner.user.username}


def test_a_withdrawal_leave_date_reminds_the_city_admin_and_the_district(
    beijing, bj_unit, city_admin, district_haidian, district_chaoyang, street_office, make_planner, appoint
):
    from rpms.appointments.services import withdrawal_earliest, withdrawal_request

    from rpms.appointments.services import appointment_withdrawal_notice_set

    planner = make_planner(beijing)
    appointment = appoint(city_admin, planner, bj_unit)
    # B25: a Beijing planner leaves on notice only where the contract agrees one (here by its signer)
    appointment = appointment_withdrawal_notice_set(actor=street_office, appointment=appointment, working_days=15)
    earliest, _ = withdrawal_earliest(appointment=appointment, requested_on=timezone.localdate())
    withdrawal = withdrawal_request(actor=planner.user, appointment=appointment, leave_date=earliest, reason="工作调动")
    items = appointment_reminders.withdrawal_reminders(city=beijing, today=timezone.localdate())
    assert [i.item for i in items] == [f"withdrawal:{withdrawal.pk}"]
    assert _recipients(items) == {city_admin.username, district_haidian.username}
    assert items[0].deadline == earliest
    assert appointment_reminders.withdrawal_reminders(city=beijing, today=earliest + dt.timedelta(days=1)) == []


# --- suggestions -----------------------------------------------------------------------------------------------


def test_an_overdue_suggestion_reminds_the_district_and_the_serving_planners(
    beijing, bj_unit, city_admin, district_haidian, district_chaoyang, street_office, make_planner, appoint
):
    from rpms.suggestions.services import suggestion_submit

    planner = make_planner(beijing)
    appoint(city_admin, planner, bj_unit)
    suggestion = suggestion_submit(actor=None, unit=bj_unit, category="suggestion", content="小区门口人行道破损，希望尽快修复。")
    assert suggestion_reminders.suggestion_overdue_reminders(city=beijing, today=suggestion.due_on) == []
    items = suggestion_reminders.suggestion_overdue_reminders(city=beijing, today=suggestion.due_on + dt.timedelta(days=1))
    assert [i.item for i in items] == [f"suggestion:{suggestion.pk}"]
    assert _recipients(items) == {district_haidian.username, planner.user.username}


# --- assessments (guarded) -------------------------------------------------------------------------------------


def test_the_service_year_is_cut_at_the_anniversary_and_at_the_last_day_of_service():
    class A:
        start = dt.date(2026, 3, 1)
        end = dt.date(2028, 2, 29)
        ended_on = None

    assert service_year_end(A, dt.date(2026, 3, 1)) == (1, dt.date(2026, 3, 1), dt.date(2027, 2, 28))
    assert service_year_end(A, dt.date(2027, 3, 1)) == (2, dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    assert service_year_end(A, dt.date(2029, 1, 1)) == (2, dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    A.ended_on = dt.date(2027, 6, 30)  # a withdrawal's leave date cuts the second year
    assert service_year_end(A, dt.date(2027, 5, 1)) == (2, dt.date(2027, 3, 1), dt.date(2027, 6, 30))


# --- the daily run ---------------------------------------------------------------------------------------------


@pytest.fixture
def expiring(beijing, bj_unit, city_admin, district_haidian, street_office, make_planner, appoint):
    district_haidian.email = "haidian@example.org"
    district_haidian.save(update_fields=["email"])
    planner = make_planner(beijing, email="planner@example.org")
    appointment = appoint(city_admin, planner, bj_unit)
    return appointment


def test_running_the_command_twice_sends_each_reminder_once(expiring, django_capture_on_commit_callbacks, capsys):
    day = (expiring.end - dt.timedelta(days=5)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--city", "beijing", "--date", day)
    first_rows = Notification.objects.count()
    first_mail = len(mail.outbox)
    expiry = Notification.objects.filter(event="reminder.contract_expiry")
    assert expiry.count() == 3  # district officer, hiring entity, planner
    expiry_mail = [m for m in mail.outbox if "聘用合同即将到期" in m.subject]
    # the street office has no e-mail address: inbox only
    assert sorted(m.to[0] for m in expiry_mail) == ["haidian@example.org", "planner@example.org"]
    assert expiry.filter(emailed_at__isnull=False).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--city", "beijing", "--date", day)
    assert Notification.objects.count() == first_rows
    assert len(mail.outbox) == first_mail
    assert "新发送 0 条" in capsys.readouterr().out.strip().splitlines()[-1]


def test_a_changed_deadline_is_reminded_again(expiring, beijing, django_capture_on_commit_callbacks):
    from rpms.appointments.models import Appointment

    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_send(city=beijing, today=expiring.end - dt.timedelta(days=5))
    new_end = expiring.end + dt.timedelta(days=365)
    Appointment.objects.filter(pk=expiring.pk).update(end=new_end)  # as a renewal would
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_send(city=beijing, today=new_end - dt.timedelta(days=5))
    keys = set(Notification.objects.filter(event="reminder.contract_expiry").values_list("key", flat=True))
    assert keys == {
        f"reminder:contract_expiry:appointment:{expiring.pk}:{(new_end - dt.timedelta(days=365)).isoformat()}",
        f"reminder:contract_expiry:appointment:{expiring.pk}:{new_end.isoformat()}",
    }


def test_each_run_writes_one_audit_row_citing_the_city_article(expiring, beijing):
    before = ActionLog.objects.filter(action="notifications.reminders_send").count()
    run = reminders.reminders_send(city=beijing, today=expiring.end - dt.timedelta(days=5))
    rows = ActionLog.objects.filter(action="notifications.reminders_send")
    assert rows.count() == before + 1
    row = rows.first()
    assert row.article == "B22" and row.city_code == "beijing"
    assert row.after["sent"] == run.sent and run.sent["contract_expiry"] == 3


def test_a_failing_provider_does_not_stop_the_others(expiring, beijing, caplog):
    def broken(*, city, today):
        raise RuntimeError("half-built app")

    run = reminders.reminders_send(
        city=beijing, today=expiring.end - dt.timedelta(days=5),
        providers=[broken, appointment_reminders.contract_expiry_reminders],
    )
    assert run.failed == ["broken"]
    assert run.sent == {"contract_expiry": 3}  # only the providers asked for
    assert Notification.objects.filter(event="reminder.contract_expiry").count() == 3


def test_a_provider_costs_the_same_queries_for_one_or_many_items(
    beijing, haidian, city_admin, district_haidian, make_planner, appoint, django_assert_max_num_queries
):
    from rpms.geography.models import ResponsibilityUnit

    units = list(ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True).order_by("pk")[:4])
    first = appoint(city_admin, make_planner(beijing), units[0])
    today = first.end - dt.timedelta(days=3)
    with django_assert_max_num_queries(6) as one:
        assert len(appointment_reminders.contract_expiry_reminders(city=beijing, today=today)) == 1
    for unit in units[1:]:
        appoint(city_admin, make_planner(beijing), unit)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(appointment_reminders.contract_expiry_reminders(city=beijing, today=today)) == 4


def test_the_command_refuses_an_unknown_city_or_a_bad_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日期格式"):
        call_command("send_reminders", "--date", "2026-13-01")
    with pytest.raises(CommandError, match="不存在"):
        call_command("send_reminders", "--city", "atlantis")


def test_a_dry_run_lists_what_is_due_and_sends_nothing(expiring, capsys):
    day = (expiring.end - dt.timedelta(days=5)).isoformat()
    call_command("send_reminders", "--city", "beijing", "--date", day, "--dry-run")
    out = capsys.readouterr().out
    assert "contract_expiry" in out and "聘用合同即将到期" in out
    assert not Notification.objects.filter(event__startswith="reminder.").exists() and mail.outbox == []


def test_a_concurrent_delivery_of_the_same_key_is_skipped_not_raised(make_user, monkeypatch):
    """Two runs racing: the row appears between our check and our insert; the unique constraint wins."""
    from rpms.notifications import services

    alice = make_user(email="")
    original = Notification.objects.filter

    def racing_filter(*args, **kwargs):
        if kwargs.get("key") == "race" and not Notification.objects.all().exists():
            Notification.objects.create(recipient=alice, event="x", title="先到的", key="race")
        return original(*args, **kwargs).none() if kwargs.get("key") == "race" else original(*args, **kwargs)

    monkeypatch.setattr(Notification.objects, "filter", racing_filter)
    assert services.notify(users=[alice], event="x", title="后到的", key="race") == []
    monkeypatch.undo()
    assert list(Notification.objects.filter(recipient=alice).values_list("title", flat=True)) == ["先到的"]
