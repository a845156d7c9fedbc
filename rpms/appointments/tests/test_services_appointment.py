"""appointment_create: the documents it issues, and every hard rule refused (B19(2), P6(2))."""
import datetime as dt
import io

import pytest
from pdfminer.high_level import extract_text

from rpms.accounts.models import Role
from rpms.appointments import services
from rpms.appointments.models import Appointment, AppointmentTerm
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.documents.rendering import document_pdf
from rpms.documents.selectors import documents_for
from rpms.registry.models import DossierEvent, DossierEventKind

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def pdf_text(document) -> str:
    return extract_text(io.BytesIO(document_pdf(document)))


def flat(text: str) -> str:
    """PDF text without line breaks and spaces (a long clause label may wrap)."""
    return "".join(text.split())


def create(actor, planner, unit, role="responsible_planner", start=None, **kwargs):
    """The appointing code through the city's own path: in Beijing (local selection) the unit's entity
    proposes and the district approves (the actor, if a district officer); elsewhere `actor` appoints."""
    from rpms.appointments.proposals import is_local_selection
    from rpms.core import clock
    from rpms.testing.builders import appointment_build

    if is_local_selection(unit.city):
        district_user = actor if actor.role == Role.DISTRICT_OFFICER else None
        return appointment_build(unit=unit, planner=planner, role=role, start=start or clock.today(),
                                 district_user=district_user, **kwargs)
    return services.appointment_create(actor=actor, planner=planner, unit=unit, role=role,
                                       start=start or clock.today(), **kwargs)


def test_appointing_in_beijing_issues_notice_certificate_and_contract_with_every_clause(city_admin, beijing, wanshou, bj_planner, clock):
    appointment = create(city_admin, bj_planner, wanshou, fee_yuan=120000, service_focus="老旧小区综合整治")

    # first term 1 year (B19(2)): the day before the same date next year
    assert appointment.end == services.term_end(clock.today, 1)
    assert services.term_end(dt.date(2026, 3, 1), 1) == dt.date(2027, 2, 28)
    assert appointment.party_a == "万寿路街道办事处"  # B19(3): the hiring entity signs in Beijing
    documents = {d.kind: d for d in documents_for(appointment)}
    assert set(documents) == {"dispatch_notice", "appointment_certificate", "appointment_contract"}

    notice = flat(pdf_text(documents["dispatch_notice"]))
    assert "责任规划师派驻通知" in notice and "林清源" in notice and "万寿路街道" in notice

    certificate = flat(pdf_text(documents["appointment_certificate"]))
    assert "责任规划师聘任证书" in certificate and "林清源" in certificate

    contract = flat(pdf_text(documents["appointment_contract"]))
    assert "责任规划师聘用合同" in contract
    assert "万寿路街道办事处" in contract and "林清源" in contract  # both parties
    labels = [c["label"] for c in beijing.policy.contract_clauses]
    assert len(labels) == 5
    for label in labels:
        assert flat(label) in contract, label
    assert "120000元" in contract and "老旧小区综合整治" in contract
    assert documents["appointment_contract"].formatted_code.replace("-", "") in contract.replace("-", "")
    # no personal identifiers in any document
    for document in documents.values():
        text = flat(pdf_text(document))
        assert bj_planner.id_number not in text and bj_planner.mobile not in text


def test_appointing_in_pingdingshan_has_the_bureau_sign_every_p6_clause(pds_admin, pingdingshan, pds_unit, pds_planner):
    appointment = create(pds_admin, pds_planner, pds_unit)

    assert appointment.party_a == "平顶山市自然资源和规划局"  # P6(3): the city bureau signs
    documents = {d.kind: d for d in documents_for(appointment)}
    contract = flat(pdf_text(documents["appointment_contract"]))
    assert "平顶山市自然资源和规划局" in contract and "韩若溪" in contract
    labels = [c["label"] for c in pingdingshan.policy.contract_clauses]
    assert len(labels) == 7
    for label in labels:
        assert flat(label) in contract, label
    certificate = flat(pdf_text(documents["appointment_certificate"]))
    assert "聘任证书" in certificate and "韩若溪" in certificate
    notice = flat(pdf_text(documents["dispatch_notice"]))
    assert "派驻通知" in notice and pds_unit.name in notice


def test_appointing_writes_one_audit_row_with_the_city_article_a_term_and_a_dossier_event(
    city_admin, beijing, wanshou, bj_planner
):
    before = ActionLog.objects.count()
    appointment = create(city_admin, bj_planner, wanshou)
    # two acts (the entity's proposal, the district's approval that appoints), one row each
    assert ActionLog.objects.count() == before + 2
    row = ActionLog.objects.get(action="appointments.selection_approve", object_id=str(appointment.pk))
    assert policy_article(beijing, "appointment") == "B19(1)"
    assert row.article == "B2、B19(1)、B19(5)"
    assert AppointmentTerm.objects.filter(appointment=appointment, term_no=1, kind="first").count() == 1
    event = DossierEvent.objects.get(planner=bj_planner, kind=DossierEventKind.APPOINTED)
    assert event.article == "B19(1)" and wanshou.name in event.summary


def test_pingdingshan_audit_row_cites_p6(pds_admin, pds_unit, pds_planner):
    appointment = create(pds_admin, pds_planner, pds_unit)
    row = ActionLog.objects.get(action="appointments.appointment_create", object_id=str(appointment.pk))
    assert row.article == "P6(2)"


def test_a_fourth_unit_is_refused_over_the_beijing_cap_of_three(city_admin, haidian, bj_planner):
    units = units_of(haidian, 4)
    for unit in units[:3]:
        create(city_admin, bj_planner, unit)
    with pytest.raises(Conflict) as refused:
        create(city_admin, bj_planner, units[3])
    assert refused.value.code == "unit_cap_reached"
    assert "不得超过 3 个" in refused.value.message and "B19(2)" in refused.value.message
    assert Appointment.objects.filter(planner=bj_planner).count() == 3


def test_a_team_counts_as_one_against_the_cap(city_admin, haidian, bj_team):
    units = units_of(haidian, 4)
    for unit in units[:3]:
        create(city_admin, bj_team, unit)
    with pytest.raises(Conflict):
        create(city_admin, bj_team, units[3])


def test_several_roles_in_one_unit_count_the_unit_once(city_admin, haidian, bj_planner):
    units = units_of(haidian, 3)
    other = make_planner(haidian.city, "责任建筑师甲")
    create(city_admin, bj_planner, units[0])
    create(city_admin, other, units[0], role="responsible_architect")  # B8: 双师
    assert Appointment.objects.filter(unit=units[0]).count() == 2


def test_pingdingshan_has_no_unit_cap(pds_admin, pds_district, pds_planner):
    units = units_of(pds_district, 4)
    assert len(units) == 4
    for unit in units:
        create(pds_admin, pds_planner, unit)
    assert Appointment.objects.filter(planner=pds_planner).count() == 4


def test_a_planner_not_active_in_the_pool_is_refused(city_admin, beijing, wanshou):
    candidate = make_planner(beijing, "候选人乙", pool_status="candidate")
    with pytest.raises(Conflict) as refused:
        create(city_admin, candidate, wanshou)
    assert refused.value.code == "planner_not_in_pool" and "资源库" in refused.value.message
    removed = make_planner(beijing, "已调出丙", pool_status="removed")
    with pytest.raises(Conflict):
        create(city_admin, removed, wanshou)


def test_a_planner_of_another_city_is_not_in_this_pool(city_admin, wanshou, pds_planner):
    with pytest.raises(Conflict) as refused:
        create(city_admin, pds_planner, wanshou)
    assert refused.value.code == "planner_not_in_pool"


def test_a_planner_already_in_the_unit_is_refused_in_any_role(city_admin, wanshou, bj_planner):
    create(city_admin, bj_planner, wanshou)
    with pytest.raises(Conflict) as refused:
        create(city_admin, bj_planner, wanshou, role="responsible_architect")
    assert refused.value.code == "already_in_unit" and "同一责任单元" in refused.value.message


def test_a_role_not_in_the_policy_is_refused(city_admin, pds_admin, wanshou, bj_planner, pds_unit, pds_planner):
    with pytest.raises(Conflict) as refused:
        create(city_admin, bj_planner, wanshou, role="chief_magician")
    assert refused.value.code == "unknown_role" and "责任规划师" in refused.value.message
    # Pingdingshan has no architects (P2: planners only)
    with pytest.raises(Conflict):
        create(pds_admin, pds_planner, pds_unit, role="responsible_architect")


def test_a_dissolved_unit_is_refused(city_admin, wanshou, bj_planner):
    from django.utils import timezone

    wanshou.dissolved_at = timezone.now()
    wanshou.save()
    with pytest.raises(Conflict) as refused:
        create(city_admin, bj_planner, wanshou)
    assert refused.value.code == "unit_dissolved"


def test_another_citys_unit_is_not_found(pds_admin, wanshou, bj_planner, clock):
    with pytest.raises(NotFound):
        services.appointment_create(actor=pds_admin, planner=bj_planner, unit=wanshou, role="responsible_planner",
                                    start=clock.today)


def test_a_start_date_far_in_the_past_is_refused_but_a_few_days_are_allowed(city_admin, wanshou, bj_planner, clock):
    with pytest.raises(DomainError) as refused:
        create(city_admin, bj_planner, wanshou, start=clock.today - dt.timedelta(days=30))
    assert refused.value.status == 400 and refused.value.code == "start_in_past"
    appointment = create(city_admin, bj_planner, wanshou, start=clock.today - dt.timedelta(days=3))
    assert appointment.start == clock.today - dt.timedelta(days=3)


def test_beijing_district_officer_approves_in_own_district_only(district_haidian, district_chaoyang, street_office,
                                                               wanshou, bj_planner, clock):
    # B19(5): in Beijing the units select their planners with the district's work team
    from rpms.appointments import proposals

    appointment = create(district_haidian, bj_planner, wanshou)
    assert appointment.pk and appointment.created_by == district_haidian
    other = make_planner(wanshou.city, "另一位规划师")
    proposal = proposals.proposal_submit(actor=street_office, planner=other, unit=wanshou,
                                         role="responsible_architect", start=clock.today)
    with pytest.raises(NotFound):
        proposals.proposal_approve(actor=district_chaoyang, proposal=proposal)
    with pytest.raises(NotFound):
        services.appointment_create(actor=district_chaoyang, planner=other, unit=wanshou, role="responsible_planner",
                                    start=clock.today)


def test_pingdingshan_district_officer_may_not_appoint(pds_officer, pds_unit, pds_planner):
    # P6(2): the city bureau dispatches
    with pytest.raises(Forbidden):
        create(pds_officer, pds_planner, pds_unit)


def test_other_roles_may_not_appoint(street_office, planner_user, wanshou, bj_planner, clock):
    for actor in (street_office, planner_user):
        with pytest.raises(Forbidden):
            services.appointment_create(actor=actor, planner=bj_planner, unit=wanshou, role="responsible_planner",
                                        start=clock.today)


def test_an_expired_appointment_frees_the_unit_for_a_new_one(city_admin, wanshou, bj_planner, clock):
    first = create(city_admin, bj_planner, wanshou)
    clock.set(first.end + dt.timedelta(days=2))
    assert not Appointment.objects.active().filter(pk=first.pk).exists()
    second = create(city_admin, bj_planner, wanshou)
    first.refresh_from_db()
    assert first.status == "ended" and second.status == "active"


def test_a_refused_appointment_leaves_nothing_behind(city_admin, haidian, bj_planner):
    from rpms.documents.models import IssuedDocument

    units = units_of(haidian, 4)
    for unit in units[:3]:
        create(city_admin, bj_planner, unit)
    counts = (Appointment.objects.count(), IssuedDocument.objects.count(), ActionLog.objects.count(),
              DossierEvent.objects.count())
    with pytest.raises(Conflict):
        create(city_admin, bj_planner, units[3])
    assert counts == (Appointment.objects.count(), IssuedDocument.objects.count(), ActionLog.objects.count(),
                      DossierEvent.objects.count())


def test_district_chief_is_named_by_the_district_and_audited_with_b6(district_haidian, district_chaoyang, haidian, bj_planner, beijing):
    chief = services.district_chief_appoint(actor=district_haidian, district=haidian, planner=bj_planner,
                                            start=dt.date.today())
    assert chief.status == "active"
    row = ActionLog.objects.get(action="appointments.district_chief_appoint")
    assert row.article == policy_article(beijing, "district_chief") == "B6"
    with pytest.raises(NotFound):
        services.district_chief_appoint(actor=district_chaoyang, district=haidian, planner=bj_planner,
                                        start=dt.date.today())
    successor = make_planner(beijing, "继任总师")
    services.district_chief_appoint(actor=district_haidian, district=haidian, planner=successor, start=dt.date.today())
    chief.refresh_from_db()
    assert chief.status == "ended"


def test_a_street_office_user_cannot_name_a_district_chief(street_office, haidian, bj_planner):
    with pytest.raises((Forbidden, NotFound)):
        services.district_chief_appoint(actor=street_office, district=haidian, planner=bj_planner, start=dt.date.today())
    assert street_office.role == Role.HIRING_ENTITY
