from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from rpms.accounts.models import Role, User
from rpms.appointments.models import Appointment, SelectionProposal
from rpms.core import clock
from rpms.core.models import ActionLog
from rpms.dispatch.models import DispatchRequest, MatchingRun, Proposal, ProposalStatus, RequestStatus
from rpms.documents.models import IssuedDocument
from rpms.duties.models import DutyRecord, DutyStatus
from rpms.geography.models import Department, District, ResponsibilityUnit, Subdistrict
from rpms.opinions.models import OpinionStatus, WrittenOpinion
from rpms.registry.models import Planner
from rpms.suggestions.models import Suggestion, SuggestionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """The demo's signed contract scans go to a temporary private root."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"

ACCOUNTS = {
    "city_admin": Role.CITY_ADMIN, "pds_admin": Role.CITY_ADMIN, "district_haidian": Role.DISTRICT_OFFICER,
    "district_chaoyang": Role.DISTRICT_OFFICER, "street_demo": Role.HIRING_ENTITY, "planner_demo": Role.PLANNER,
    "auditor": Role.AUDITOR,
    # the three separated administrators (issue 16 item 2), installed as create_administrators does
    "system_admin": Role.SYSTEM_ADMIN, "security_admin": Role.SECURITY_ADMIN, "audit_admin": Role.AUDIT_ADMIN,
}


def test_seed_demo_creates_both_cities_accounts_and_fictional_planners_once():
    call_command("seed_demo")
    counts = (District.objects.count(), Subdistrict.objects.count(), ResponsibilityUnit.objects.count(),
              Planner.objects.count(), User.objects.count(), ActionLog.objects.count())
    assert District.objects.filter(city__code="beijing").count() == 16
    assert Subdistrict.objects.filter(district__city__code="beijing").count() == 349
    assert Subdistrict.objects.filter(district__city__code="pingdingshan").count() == 43
    for username, role in ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password("Rpms-demo-2026")
    assert list(User.objects.get(username="district_haidian").districts.values_list("name", flat=True)) == ["海淀区"]
    assert {u.username: u.display_name for u in User.objects.filter(role__in=[Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN,
                                                                              Role.AUDIT_ADMIN])} == {
        "system_admin": "系统管理员（演示）", "security_admin": "安全管理员（演示）", "audit_admin": "审计管理员（演示）"}
    assert not User.objects.filter(role__in=[Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN],
                                   is_staff=True).exists()
    assert 45 <= Planner.objects.count() <= 55
    # fictional people: marked, named so, with fictional contact data (the 138-0013 test numbers)
    assert all(p.is_fictional and "虚构" in p.name and p.mobile.startswith("1380013") for p in Planner.objects.all())
    assert Planner.objects.filter(user__username="planner_demo").count() == 1
    call_command("seed_demo")  # idempotent: nothing new, no new audit rows
    assert counts == (District.objects.count(), Subdistrict.objects.count(), ResponsibilityUnit.objects.count(),
                      Planner.objects.count(), User.objects.count(), ActionLog.objects.count())


ACTIVITY_MODELS = [Department, Appointment, DispatchRequest, MatchingRun, Proposal, DutyRecord, WrittenOpinion,
                   Suggestion, IssuedDocument, ActionLog]


def _seed() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_demo_adds_a_living_system_through_the_services_once():
    out, err = _seed()
    assert err == ""  # no act of the demo was refused by the rules
    assert "派驻聘任 24" in out
    counts = {model.__name__: model.objects.count() for model in ACTIVITY_MODELS}

    # departments: a few per city, marked as demo
    for code in ("beijing", "pingdingshan"):
        names = list(Department.objects.filter(city__code=code).values_list("name", flat=True))
        assert len(names) >= 3 and all(n.endswith("（演示）") for n in names)
    assert Department.objects.filter(district__code="110108", name="海淀区城市管理委员会（演示）").exists()

    # appointments: ~12 Haidian, ~6 Chaoyang, ~5 Pingdingshan units, fictional planners, cap respected
    units_by_district = Counter(code for code, _ in set(Appointment.objects.values_list("unit__district__code", "unit_id")))
    assert units_by_district["110108"] == 12 and units_by_district["110105"] == 6
    assert Appointment.objects.filter(city__code="pingdingshan").count() == 5
    assert all(a.planner.is_fictional for a in Appointment.objects.select_related("planner"))
    per_planner = Counter(Appointment.objects.filter(city__code="beijing").not_over().values_list("planner_id", flat=True))
    assert max(per_planner.values()) <= 3  # B19(2)
    demo = Appointment.objects.get(planner__user__username="planner_demo")
    assert demo.unit.memberships.filter(subdistrict__code="110108001", left_at__isnull=True).exists()
    assert demo.role == "responsible_planner" and demo.is_filed and demo.filed_by.username == "district_haidian"
    unfiled = Appointment.objects.filter(filed_at__isnull=True)
    assert sorted(unfiled.values_list("unit__district__code", flat=True)) == ["110105", "110108"]
    assert Appointment.objects.filter(filed_by__username="district_chaoyang").count() == 5
    # through the real paths: Beijing's street offices proposed and the districts approved (B19(1)(5));
    # the offices uploaded the signed contracts and the districts filed them (B19(3)); Pingdingshan's
    # bureau appointed and its signed contracts filed at once (P6(3))
    beijing_appointments = Appointment.objects.filter(city__code="beijing")
    assert all(a.selection_proposal.proposed_by.role == Role.HIRING_ENTITY
               and a.selection_proposal.decided_by.role == Role.DISTRICT_OFFICER for a in beijing_appointments)
    assert not ActionLog.objects.filter(action="appointments.appointment_create", city_code="beijing").exists()
    assert sorted(Appointment.objects.exclude(contract_state="filed").values_list("contract_state", flat=True)) \
        == ["submitted", "unsigned"]
    assert all(a.signed_contracts.filter(status="filed", submitted_by__role=Role.CITY_ADMIN).exists()
               for a in Appointment.objects.filter(city__code="pingdingshan"))
    assert SelectionProposal.objects.filter(status="pending", proposed_by__role=Role.HIRING_ENTITY).count() == 1

    # dispatch: one accepted request per Beijing district officer, one run with proposals to confirm
    for username in ("district_haidian", "district_chaoyang"):
        request = DispatchRequest.objects.get(requested_by__username=username)
        assert request.status == RequestStatus.ACCEPTED and request.decided_by.username == "city_admin"
    run = MatchingRun.objects.get(city__code="beijing")
    assert run.proposals.filter(status=ProposalStatus.PROPOSED).count() >= 2
    assert not Appointment.objects.filter(unit__in=run.proposals.values("unit")).exists()

    # the demo planner's duty records: several categories, confirmed by the street office, one queried
    records = DutyRecord.objects.filter(planner__user__username="planner_demo")
    assert records.values("category").distinct().count() >= 5
    assert records.filter(status=DutyStatus.CONFIRMED, confirmed_by__username="street_demo").count() >= 2
    assert records.filter(status=DutyStatus.QUERIED).count() == 1
    assert records.filter(status=DutyStatus.SUBMITTED).exists()

    # written opinions: one issued (with its document), one draft
    opinions = WrittenOpinion.objects.filter(planner__user__username="planner_demo")
    issued = opinions.get(status=OpinionStatus.ISSUED)
    assert issued.document is not None and issued.content_hash and issued.departments.exists()
    assert opinions.filter(status=OpinionStatus.DRAFT).count() == 1

    # residents' suggestions: 万寿路街道 and a Chaoyang unit; replied, forwarded, overdue
    assert Suggestion.objects.filter(unit=demo.unit).count() >= 3
    assert Suggestion.objects.filter(district__code="110105").count() >= 2
    assert Suggestion.objects.filter(replied_at__isnull=False, unit=demo.unit).exists()
    assert Suggestion.objects.filter(replied_at__isnull=False, district__code="110105").exists()
    forwarded = Suggestion.objects.get(status=SuggestionStatus.FORWARDED)
    assert forwarded.department.name.endswith("（演示）")
    today = clock.today()
    overdue = [s for s in Suggestion.objects.all() if s.is_overdue(today)]
    assert len(overdue) == 1 and overdue[0].received_on < today and overdue[0].unit_vacant
    assert Suggestion.objects.filter(status=SuggestionStatus.RECEIVED, unit=demo.unit).exists()
    assert all("演示" in s.content for s in Suggestion.objects.all())

    out, err = _seed()  # idempotent: nothing new, no new audit row, no refusal
    assert err == "" and "业务数据 0 条" in out
    assert counts == {model.__name__: model.objects.count() for model in ACTIVITY_MODELS}


@override_settings(SETTINGS_MODULE="config.settings.production")
def test_seed_demo_refuses_under_production_settings():
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_demo")
    assert not User.objects.filter(username="city_admin").exists()


def test_every_demo_planner_entered_the_pool_through_the_real_admission_path():
    """Issue #12 item 6: Pingdingshan's pool through an open call, review and a notice that ran its full
    period (P5(1)-(2)); Beijing's through its roster of existing members (each with the original admission
    date and decision) and direct commission (B19(1)). Every planner in the pool has its admission date and
    its dossier, and the statistics of the demo agree with themselves."""
    import datetime as dt

    from django.utils import timezone

    from rpms.recruitment.models import Application, PublicNotice
    from rpms.registry.models import DossierEvent, RosterImport

    out, err = _seed()
    assert err == ""
    assert "名册导入 32，定向委托 3，公开征集经公示入库 15" in out
    in_pool = Planner.objects.filter(pool_status="active")
    assert in_pool.count() == Planner.objects.count() == 50
    assert not in_pool.filter(admitted_at__isnull=True).exists()
    entries = {"admitted", "commissioned", "imported"}
    for planner in in_pool:
        admission = [e for e in planner.events.all() if e.kind in entries]
        assert len(admission) == 1, planner.name
        # the dossier's admission is the planner's admission date
        assert admission[0].occurred_at == planner.admitted_at, planner.name
        assert planner.admitted_at.date() < timezone.localdate() - dt.timedelta(days=7)  # before any posting began

    pds = Planner.objects.filter(city__code="pingdingshan")
    assert {p.source for p in pds} == {"application"}
    notice = PublicNotice.objects.get(city__code="pingdingshan")
    assert notice.closed_at is not None and not notice.backdated
    assert notice.working_days >= notice.city.policy.notice_working_days
    for planner in pds:
        kinds = [e.kind for e in planner.events.all()]
        assert kinds[:4] == ["applied", "reviewed", "on_notice", "admitted"]
        application = Application.objects.get(planner=planner)
        assert application.eligible and application.proofs.count() == 1 and application.scores
        assert application.submitted_at < application.decided_at < notice.published_at < planner.admitted_at
        assert timezone.localtime(planner.admitted_at).date() > notice.end
        assert planner.user is not None and not planner.user.has_usable_password()

    beijing = Planner.objects.filter(city__code="beijing")
    assert sorted({p.source for p in beijing}) == ["commission", "import"]
    roster = RosterImport.objects.get(city__code="beijing")
    assert roster.status == "done" and roster.imported_rows == 32 and roster.error_rows == 0
    for event in DossierEvent.objects.filter(planner__city__code="beijing", kind="imported"):
        assert event.data["admission_evidence"].startswith("京规自发〔") and event.data["admitted_on"]
        assert timezone.localtime(event.occurred_at).date().isoformat() == event.data["admitted_on"]
        assert event.recorded_at > event.occurred_at  # the roster recorded an earlier admission
    commissioned = DossierEvent.objects.filter(planner__city__code="beijing", kind="commissioned")
    assert commissioned.count() == 3 and all(e.data["reason"] for e in commissioned)


def test_statistics_of_the_demo_agree_with_themselves_and_with_the_rows():
    """On the demo data, "在库（截至今日）" equals "当前在库" and the registry's pool, and every figure of the
    page's answer equals the independent recount from the raw rows, in both cities."""
    from django.utils import timezone

    from rpms.reports.selectors import city_statistics
    from rpms.reports.tests.recount import figures, recount

    _seed()
    today = timezone.localdate()
    for code in ("beijing", "pingdingshan"):
        city = District.objects.filter(city__code=code).first().city
        active = Planner.objects.filter(city=city, pool_status="active").count()
        for year in (today.year, today.year - 1):
            stats = city_statistics(city=city, year=year)
            pool = stats["pool"]
            assert pool["status_mismatch"] == 0
            assert pool["in_pool_now"] == active > 0
            assert pool["in_pool_start"] + pool["admitted"] - pool["removed"] == pool["in_pool"]
            if year == today.year:
                assert pool["in_pool"] == pool["in_pool_now"] == active
            districts = list(city.districts.order_by("sort_order", "code"))
            got, want = figures(stats), figures(recount(city, year, today, districts))
            assert got == want
        # and the page shows it: 在库（截至今日）and no contradicting "当前在库"
        client = Client()
        assert client.post("/accounts/login/", {"username": "city_admin" if code == "beijing" else "pds_admin",
                                                "password": "Rpms-demo-2026"}).status_code == 302
        html = client.get("/statistics/", {"city": code, "year": today.year}).content.decode()
        assert f'data-key="pool.in_pool">{active}<' in html
        assert 'id="pool-mismatch"' not in html and 'data-key="pool.in_pool_now"' not in html
