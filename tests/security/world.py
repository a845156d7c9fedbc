"""The world the security sweeps run against: records of Beijing's 海淀区 (the object side of every sweep),
built through the services (rpms.testing.builders, tests.browser.builders) and the root personas.

Two haidian units are staffed: 万寿路街道 (street_office's subdistrict; planner_user serves it) and a second
unit of another subdistrict (another planner). Each of them gets the activity that hangs off a unit — duty
records, a data request, monitoring feedback, extra work, written opinions, suggestions, a case, an
assessment — so that a district officer of 朝阳 and the street office of 万寿路 each have somebody else's
records to try (both planners also have a selection proposal, a work certificate, a violation and a work
proposal). The city's own records (a call with an application, its notice and an objection, an announcement,
an interpretation, a dispatch request of 海淀) complete it."""
from __future__ import annotations

import datetime as dt

MONDAY = dt.date(2026, 11, 23)  # a working Monday: the notice opens, everybody appointed serves
MARK = "安全巡检测试数据"
# The records of 万寿路街道's unit carry MARK + OWN in their text, those of the other haidian unit MARK + OTHER.
OWN, OTHER = "·甲", "·乙"


def world_build(p: dict, clock) -> dict:
    """`p`: persona name → user (tests.security.conftest.personas). Returns what the sweeps need: the
    objects by kind and the two units."""
    from rpms.appointments.models import SelectionProposal
    from rpms.assessments.services import assessment_open, violation_record
    from rpms.duties.services.work_certificates import work_certificate_issue
    from rpms.suggestions.services import work_proposal_submit
    from rpms.cases.services import case_submit
    from rpms.dispatch.services import dispatch_request_submit
    from rpms.duties.services.data_requests import data_request_create
    from rpms.duties.services.duty_records import duty_record_confirm, duty_record_create
    from rpms.duties.services.extra_work import extra_work_create
    from rpms.duties.services.monitoring_feedback import monitoring_feedback_file
    from rpms.opinions.services import opinion_create, opinion_interest_declare, opinion_issue
    from rpms.publicinfo.services import announcement_create, announcement_publish, interpretation_create
    from rpms.recruitment.services import objection_submit
    from rpms.registry.models import Planner
    from rpms.suggestions.services import suggestion_reply, suggestion_submit
    from rpms.testing import builders
    from tests.browser import builders as browser_builders

    clock.set(MONDAY)
    city_admin, officer = p["city_admin"], p["district_haidian"]
    beijing = city_admin.city
    haidian = beijing.districts.get(code="110108")
    wanshou = builders.unit_of(beijing, "110108001")
    street_ids = {s.pk for s in wanshou.current_subdistricts}
    other = next(u for u in builders.units_of(haidian, 8)
                 if u.pk != wanshou.pk and not street_ids & {s.pk for s in u.current_subdistricts})
    spare = [u for u in builders.units_of(haidian, 12) if u.pk not in (wanshou.pk, other.pk)][:2]

    own = Planner.objects.get(user=p["planner_user"])
    Planner.objects.filter(pk=own.pk).update(pool_status="active")
    second = builders.planner_build(beijing, name="海淀另一规划师（虚构）")
    objects: dict[str, list] = {}

    def add(kind, obj):
        objects.setdefault(kind, []).append(obj)
        return obj

    category = beijing.policy.duty_categories[0]["code"]
    for planner, unit, tag in ((own, wanshou, OWN), (second, other, OTHER)):
        user = planner.user
        mark = f"{MARK}{tag}"
        appointment = add("appointment", builders.appointment_build(unit=unit, planner=planner, filed=True,
                                                                     start=MONDAY, fee_yuan=80000))
        add("duty_record", duty_record_create(actor=user, unit=unit, category=category, date=MONDAY, hours="2.0",
                                              place=f"{unit.name}社区服务中心", description=f"{mark}：踏勘与居民议事",
                                              participants="社区居民代表"))
        add("data_request", data_request_create(actor=user, unit=unit, addressee="entity", title=f"{mark}：现状资料",
                                                content="街区现状地形图与近三年更新项目清单。"))
        add("monitoring_feedback", monitoring_feedback_file(actor=user, unit=unit, source="plan_implementation",
                                                            title=f"{mark}：实施偏差", description="绿地被占用。"))
        add("extra_work", extra_work_create(actor=user, appointment=appointment, kind="special_study",
                                            title=f"{mark}：专题研究", scope="街区更新专题研究。", fee_yuan=50000,
                                            party_a=f"{unit.name}办事处", contract_number=f"HT-{unit.pk}",
                                            contract_date=MONDAY))
        opinion = opinion_create(actor=user, unit=unit, subject=f"{mark}：综合整治方案", subject_kind="implementation_scheme",
                                 findings="停车位挤占绿地。", recommendations="调整停车布局。",
                                 reviewed_documents=["综合整治实施方案（送审稿）"])
        opinion_interest_declare(actor=user, opinion=opinion, has_conflict=False, note="无利害关系")
        add("opinion", opinion_issue(actor=user, opinion=opinion))
        add("opinion", opinion_create(actor=user, unit=unit, subject=f"{mark}：草稿意见", subject_kind="implementation_scheme"))
        suggestion = add("suggestion", suggestion_submit(actor=None, unit=unit, category="suggestion",
                                                         content=f"{mark}：人行道破损，建议修缮。", contact_name="居民",
                                                         contact_phone="13612340000"))
        suggestion_reply(actor=user, suggestion=suggestion, text="已转街道，两周内修缮。")
        add("selection_proposal", SelectionProposal.objects.get(appointment=appointment))
        entity = builders.entity_user_for(unit)
        confirmed = duty_record_create(actor=user, unit=unit, category=category, date=MONDAY, hours="1.5",
                                       place=f"{unit.name}办事处", description=f"{mark}：参加方案审查会")
        add("duty_record", duty_record_confirm(actor=entity, record=confirmed))
        add("work_certificate", work_certificate_issue(actor=entity, planner=planner, start=MONDAY, end=MONDAY))
        add("violation", violation_record(actor=officer, planner=planner, kind=beijing.policy.violation_kinds[0]["code"],
                                          description=f"{mark}：未按约定履职", occurred_on=MONDAY, appointment=appointment))
        add("assessment", assessment_open(actor=officer, appointment=appointment))
        add("work_proposal", work_proposal_submit(actor=user, unit=unit, title=f"{mark}：工作建议", analysis="居民反映集中。",
                                                  recommendation="统筹修缮人行道。", suggestions=[suggestion]))
        add("case", case_submit(actor=user, unit=unit, title=f"{mark}：微更新案例", duty_category=category,
                                summary="以居民需求为导向推进社区公共空间微更新。",
                                body="本案例记录责任规划师开展社区公共空间微更新的全过程，包括需求调查、方案讨论、居民议事、实施和后评估。" * 2))
    add("dispatch_request", dispatch_request_submit(actor=officer, city=beijing, district=haidian,
                                                    role="responsible_planner", units=spare, slots_per_unit=1,
                                                    service_focus=f"{MARK}：街区更新"))
    notice, applications = browser_builders.notice_with_candidates(city_admin, beijing, start=MONDAY,
                                                                   names=["安全巡检候选人"])
    add("notice", notice)
    for application in applications.values():
        add("application", application)
        add("objection", objection_submit(notice=notice, application_id=application.pk, content="反映资历情况。",
                                          contact_name="异议人", contact_phone="13512340000"))
    announcement = announcement_create(actor=city_admin, city=beijing, kind="other", title=f"{MARK}：公告", body="正文。")
    add("announcement", announcement_publish(actor=city_admin, announcement=announcement) or announcement)
    add("interpretation", interpretation_create(actor=city_admin, city=beijing, title=f"{MARK}：解读", body="解读正文。",
                                                articles=["B19"]))
    return {"objects": objects, "units": {"wanshou": wanshou, "other": other}, "city": beijing, "district": haidian}
