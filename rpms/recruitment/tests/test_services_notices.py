"""Public notices (P5(2)): the window computed in working days, objections only inside it,
resolution, closing guards, admission and the dossier; one audit row per act."""
import datetime as dt

import pytest

from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.recruitment import services
from rpms.recruitment.models import ApplicationStatus, Objection, PublicNotice
from rpms.registry.models import DossierEvent, Planner, PoolStatus
from rpms.workdays.selectors import add_working_days, count_working_days

from .factories import applicant, approved_application, beijing_data, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def pds_candidates(pds_admin, pingdingshan, clock):
    clock.set(dt.date(2026, 9, 1))
    call = open_call(pds_admin, pingdingshan, deadline=dt.date(2026, 9, 20))
    apps = [approved_application(pds_admin, call, applicant(f"p{i}", pingdingshan), pingdingshan_data(name=f"候选人{i}"))
            for i in range(3)]
    return call, apps


def objection(notice, application, **extra):
    fields = {"content": "反映问题", "contact_name": "居民甲", "contact_phone": "010-12345678"}
    fields.update(extra)
    return services.objection_submit(notice=notice, application_id=application.pk, **fields)


def test_the_notice_ends_after_the_policy_working_days_skipping_national_day(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 9, 28))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 9, 28))
    assert notice.end == dt.date(2026, 10, 9) and notice.working_days == 5
    assert count_working_days(notice.start, notice.end) == (5, False)
    assert any("国庆" in line for line in notice.explanation)
    assert notice.backdated is False
    assert {e.application_id for e in notice.entries.all()} == {a.pk for a in apps}
    assert {a.status for a in call.applications.all()} == {ApplicationStatus.ON_NOTICE}
    row = ActionLog.objects.get(action="recruitment.notice_publish")
    assert row.article == "P5(2)" and row.after["end"] == "2026-10-09"


def test_the_notice_length_follows_the_city_policy(pds_admin, pds_candidates, clock, pingdingshan):
    pingdingshan.policy.notice_working_days = 7
    pingdingshan.policy.save()
    call, _ = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    assert notice.end == dt.date(2026, 11, 10) and notice.working_days == 7


def test_a_paper_notice_that_began_earlier_is_recorded_with_its_computed_end(pds_admin, pds_candidates, clock):
    """A notice migrated from paper: its start lies far enough back that its window has ended."""
    call, apps = pds_candidates
    today = dt.date(2026, 11, 16)
    clock.set(today)
    start = dt.date(2026, 10, 12)
    # Issue #12 (5c): a start in the past records a notice published elsewhere and names the original.
    notice = services.notice_publish(actor=pds_admin, call=call, start=start,
                                     evidence_url="https://zrzy.example.gov.cn/notice/2026-10-12")
    assert notice.backdated is True and notice.evidence_url.endswith("2026-10-12")
    assert notice.end == add_working_days(start, 5).end == dt.date(2026, 10, 16)
    assert notice.has_ended() and not notice.is_open()
    with pytest.raises(Conflict) as late:
        objection(notice, apps[0])
    assert late.value.status == 409 and late.value.message == "公示期已于 2026-10-16 结束，不再受理异议。"
    admitted = services.notice_close(actor=pds_admin, notice=notice)
    assert {p.name for p in admitted} == {a.name for a in apps}
    on_notice = DossierEvent.objects.get(planner=admitted[0], kind="on_notice")
    assert on_notice.occurred_at.date() == start  # the paper notice's own date, not the migration day


def test_objections_before_the_start_are_refused(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 9))
    with pytest.raises(Conflict) as early:
        objection(notice, apps[0])
    assert early.value.code == "notice_not_started"


def test_objections_on_the_last_day_are_accepted(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    clock.set(notice.end)
    received = objection(notice, apps[0], contact_phone="13912345678")
    assert received.pk and received.resolution == ""


def test_objection_input_is_checked(pds_admin, pds_candidates, clock, pingdingshan):
    call, apps = pds_candidates
    other = services.application_submit(actor=applicant("outsider", pingdingshan), call=call, data=pingdingshan_data())
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    with pytest.raises(DomainError) as phone:
        objection(notice, apps[0], contact_phone="abc")
    assert phone.value.code == "invalid_phone"
    with pytest.raises(DomainError) as empty:
        objection(notice, apps[0], content="  ")
    assert empty.value.code == "content_required"
    with pytest.raises(DomainError) as not_listed:
        objection(notice, other)
    assert not_listed.value.code == "not_on_notice"
    assert Objection.objects.count() == 0


def test_an_upheld_objection_cancels_the_candidate_and_publishes_the_finding(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    raised = objection(notice, apps[0])
    resolved = services.objection_resolve(actor=pds_admin, objection=raised, upheld=True, finding="查证属实")
    assert resolved.upheld and resolved.finding_published_at is not None
    apps[0].refresh_from_db()
    assert apps[0].status == ApplicationStatus.CANCELLED and apps[0].notice_entry.cancelled is True
    with pytest.raises(Conflict) as again:
        services.objection_resolve(actor=pds_admin, objection=raised, upheld=False, finding="改判")
    assert again.value.code == "already_resolved"
    with pytest.raises(Conflict) as cancelled:
        objection(notice, apps[0])
    assert cancelled.value.code == "candidate_cancelled"
    row = ActionLog.objects.get(action="recruitment.objection_resolve")
    assert row.article == "P5(2)" and row.after["cancelled"] is True


def test_closing_before_the_notice_ends_is_refused(pds_admin, pds_candidates, clock):
    call, _ = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    clock.set(notice.end)  # the last day still belongs to the notice period
    with pytest.raises(Conflict) as refused:
        services.notice_close(actor=pds_admin, notice=notice)
    assert refused.value.status == 409 and refused.value.code == "notice_not_ended"
    assert not Planner.objects.exists()
    assert PublicNotice.objects.get().closed_at is None


def test_closing_with_an_unresolved_objection_is_refused(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    objection(notice, apps[1])
    clock.set(notice.end + dt.timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        services.notice_close(actor=pds_admin, notice=notice)
    assert refused.value.code == "objections_unresolved" and "1 条异议" in refused.value.message
    assert not Planner.objects.exists()


def test_closing_admits_everyone_not_cancelled_with_their_dossier(pds_admin, pds_candidates, clock):
    call, apps = pds_candidates
    clock.set(dt.date(2026, 11, 2))
    notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    upheld = objection(notice, apps[0])
    rejected = objection(notice, apps[1])
    services.objection_resolve(actor=pds_admin, objection=upheld, upheld=True, finding="查证属实")
    services.objection_resolve(actor=pds_admin, objection=rejected, upheld=False, finding="不属实")
    clock.set(notice.end + dt.timedelta(days=1))
    admitted = services.notice_close(actor=pds_admin, notice=notice)
    assert sorted(p.name for p in admitted) == ["候选人1", "候选人2"]
    for planner in admitted:
        assert planner.pool_status == PoolStatus.ACTIVE and planner.admitted_at is not None
        assert planner.source == "application" and planner.user is not None
        application = planner.applications.get()
        assert application.status == ApplicationStatus.ADMITTED
        assert planner.id_number == application.id_number and planner.specialties == application.specialties
        assert list(planner.familiar_districts.values_list("code", flat=True)) == ["410402"]
    kinds = {p.name: list(p.events.values_list("kind", "article")) for p in admitted}
    assert kinds["候选人1"] == [("applied", "P4"), ("reviewed", "P5(1)"), ("on_notice", "P5(2)"),
                               ("objection", "P5(2)"), ("admitted", "P5(2)")]
    assert kinds["候选人2"] == [("applied", "P4"), ("reviewed", "P5(1)"), ("on_notice", "P5(2)"), ("admitted", "P5(2)")]
    assert ActionLog.objects.filter(action="recruitment.notice_close").count() == 1
    with pytest.raises(Conflict):
        services.notice_close(actor=pds_admin, notice=notice)


def test_admission_reuses_the_applicants_existing_record(city_admin, beijing, planner_user, clock):
    """The shared persona already has a (candidate) planner record: admission fills it in."""
    clock.set(dt.date(2026, 11, 2))
    call = open_call(city_admin, beijing, deadline=dt.date(2026, 11, 30))
    approved_application(city_admin, call, planner_user, beijing_data(name="测试规划师"))
    notice = services.notice_publish(actor=city_admin, call=call, start=dt.date(2026, 11, 2))
    clock.set(notice.end + dt.timedelta(days=1))
    [planner] = services.notice_close(actor=city_admin, notice=notice)
    assert planner.pk == planner_user.planner.pk and Planner.objects.filter(user=planner_user).count() == 1
    assert planner.pool_status == PoolStatus.ACTIVE


def test_a_notice_needs_approved_candidates(pds_admin, pingdingshan, clock):
    clock.set(dt.date(2026, 11, 2))
    call = open_call(pds_admin, pingdingshan, deadline=dt.date(2026, 11, 30))
    with pytest.raises(Conflict) as refused:
        services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 11, 2))
    assert refused.value.code == "no_candidates"
    assert not PublicNotice.objects.exists()
