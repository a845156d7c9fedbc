"""Extra contracted work (B12) and monitoring feedback (B11(6))."""
import datetime as dt
from decimal import Decimal

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.duties import selectors, services
from rpms.duties.models import ExtraWorkStatus, FeedbackStatus, MonitoringFeedback

pytestmark = pytest.mark.django_db


def _contract(actor, appointment, **overrides):
    values = {"kind": "special_study", "title": "万寿路街区更新专题研究", "scope": "现状评估、更新策略与行动计划",
              "fee_yuan": "180000", "party_a": "万寿路街道办事处", "contract_number": "WSL-2026-001",
              "contract_date": dt.date.today() - dt.timedelta(days=3)}
    values.update(overrides)
    return services.extra_work_create(actor=actor, appointment=appointment, **values)


def test_extra_work_is_recorded_against_the_appointment_citing_b12(bj_planner, street_office):
    appointment = bj_planner.appointments.get()
    work = _contract(street_office, appointment)
    assert work.unit == appointment.unit and work.planner == bj_planner
    assert work.fee_yuan == Decimal("180000.00") and work.get_kind_display() == "专题研究"
    assert ActionLog.objects.get(action="duties.extra_work_create", object_id=str(work.pk)).article == "B12"


def test_every_b12_kind_is_accepted_and_others_refused(bj_planner):
    appointment = bj_planner.appointments.get()
    labels = []
    for n, kind in enumerate(["special_study", "feasibility", "plan_making", "design", "health_check", "other"]):
        labels.append(_contract(bj_planner.user, appointment, kind=kind, contract_number=f"C-{n}").get_kind_display())
    assert labels == ["专题研究", "可行性分析", "规划编制", "方案设计", "体检评估", "其他"]
    with pytest.raises(DomainError):
        _contract(bj_planner.user, appointment, kind="consulting", contract_number="C-x")


def test_extra_work_checks_fee_dates_and_contract_number(bj_planner):
    appointment = bj_planner.appointments.get()
    with pytest.raises(DomainError):
        _contract(bj_planner.user, appointment, fee_yuan="-1")
    with pytest.raises(DomainError):
        _contract(bj_planner.user, appointment, contract_date=dt.date.today() + dt.timedelta(days=1))
    with pytest.raises(DomainError):
        _contract(bj_planner.user, appointment, start=dt.date(2026, 5, 1), end=dt.date(2026, 4, 1))
    _contract(bj_planner.user, appointment)
    with pytest.raises(Conflict):
        _contract(bj_planner.user, appointment)  # the same contract number twice


def test_outsiders_cannot_record_extra_work(bj_planner, bj_other, other_entity, district_chaoyang):
    appointment = bj_planner.appointments.get()
    for outsider in (bj_other.user, other_entity, district_chaoyang):
        with pytest.raises(Forbidden):
            _contract(outsider, appointment)


def test_extra_work_moves_through_its_statuses_and_is_closed_after(bj_planner, district_haidian):
    work = _contract(district_haidian, bj_planner.appointments.get())
    work = services.extra_work_status_change(actor=bj_planner.user, work=work, status="in_progress")
    assert work.status == ExtraWorkStatus.IN_PROGRESS
    with pytest.raises(DomainError):
        services.extra_work_status_change(actor=bj_planner.user, work=work, status="terminated", note="")
    work = services.extra_work_status_change(actor=bj_planner.user, work=work, status="completed", note="成果已验收")
    with pytest.raises(Conflict):
        services.extra_work_status_change(actor=bj_planner.user, work=work, status="in_progress")
    with pytest.raises(Conflict):
        services.extra_work_update(actor=bj_planner.user, work=work, fee_yuan="1")


def test_pingdingshan_extra_work_cites_its_article(pds_planner, pds_entity, pingdingshan):
    work = _contract(pds_entity, pds_planner.appointments.get(), kind="plan_making", title="曙光街片区规划编制",
                     party_a="曙光街街道办事处")
    assert ActionLog.objects.get(action="duties.extra_work_create", object_id=str(work.pk)).article == \
        pingdingshan.policy.articles["extra_work"]


# --- monitoring feedback ---------------------------------------------------------------------------


def _feedback(planner, unit, **overrides):
    values = {"source": "health_check", "title": "小区停车设施不足", "description": "城市体检中居民反映夜间停车难。",
              "location": "万寿路 28 号院", "suggestion": "结合更新项目增设立体停车设施。"}
    values.update(overrides)
    return services.monitoring_feedback_file(actor=planner.user, unit=unit, **values)


def test_a_planner_files_a_health_check_issue_to_the_district_which_answers(bj_planner, bj_unit, district_haidian,
                                                                            district_chaoyang):
    item = _feedback(bj_planner, bj_unit)
    assert item.status == FeedbackStatus.SUBMITTED and item.district == bj_unit.district
    assert item.addressee_name == "海淀区规划自然资源主管部门"
    assert ActionLog.objects.get(action="duties.monitoring_feedback_file", object_id=str(item.pk)).article == "B11(6)"
    with pytest.raises(Forbidden):
        services.monitoring_feedback_answer(actor=district_chaoyang, feedback=item, answer="已知悉")
    with pytest.raises(DomainError):
        services.monitoring_feedback_answer(actor=district_haidian, feedback=item, answer="")
    item = services.monitoring_feedback_answer(actor=district_haidian, feedback=item, answer="已纳入年度更新计划。")
    assert item.status == FeedbackStatus.ANSWERED and item.answered_by == district_haidian
    assert item.answered_on == dt.date.today()
    with pytest.raises(Conflict):
        services.monitoring_feedback_answer(actor=district_haidian, feedback=item, answer="再答一次")


def test_a_department_answer_is_recorded_by_the_district_with_its_source(bj_planner, bj_unit, district_haidian, beijing):
    from rpms.geography.models import Department

    department = Department.objects.create(city=beijing, district=None, name="北京市交通委员会（测试）")
    item = _feedback(bj_planner, bj_unit, source="plan_implementation", department=department.pk)
    assert item.addressee == "department" and item.addressee_name == department.name
    item = services.monitoring_feedback_answer(actor=district_haidian, feedback=item, answer="将统筹研究。",
                                               answered_on=dt.date.today())
    assert item.answer_source == department.name


def test_a_planner_cannot_file_for_a_unit_it_does_not_serve(bj_planner, bj_other_unit):
    with pytest.raises(Forbidden):
        _feedback(bj_planner, bj_other_unit)
    assert not MonitoringFeedback.objects.exists()


def test_pingdingshan_feedback_cites_its_article_and_is_scoped(pds_planner, pds_unit, pds_district, district_haidian,
                                                               pingdingshan):
    item = _feedback(pds_planner, pds_unit, title="湛河沿线绿道断点")
    assert ActionLog.objects.get(action="duties.monitoring_feedback_file").article == \
        pingdingshan.policy.articles["monitoring_feedback"]
    assert [f.pk for f in selectors.monitoring_feedback_list(user=pds_district)] == [item.pk]
    with pytest.raises(NotFound):
        selectors.monitoring_feedback_get(user=district_haidian, pk=item.pk)
    services.monitoring_feedback_answer(actor=pds_district, feedback=item, answer="已转市园林部门。")
