"""Issue #11 item 6, across the apps that issue documents: every kind of document, made through the
real services in each city, names its true issuer and only bodies that exist in that city.

- Pingdingshan has no district work team (P6): no document mentions any 工作专班 — not in its HTML,
  not in its PDF; the bureau appoints and certifies (P6(3)); the bureau with the local government
  issues the assessment result (P6(4)).
- Beijing: the hiring entity certifies (B19(3)), the contract is filed with the district work team,
  which also issues the assessment result (B20).
- A written opinion is the planner's own, under no bureau letterhead, in both cities."""
import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from pdfminer.high_level import extract_text

from rpms.accounts.models import Role, User
from rpms.documents.models import DocumentKind, IssuedDocument
from rpms.documents.rendering import document_html, document_pdf
from rpms.registry.models import Planner

pytestmark = pytest.mark.django_db

PASSWORD = "Test-pass-2026!"


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def user(username, role, city, *, districts=(), subdistricts=(), display_name=""):
    account = User.objects.create_user(username=username, password=PASSWORD, role=role, city=city,
                                       display_name=display_name or username)
    if districts:
        account.districts.set(districts)
    if subdistricts:
        account.subdistricts.set(subdistricts)
    return account


def first_unit(district):
    from rpms.geography.models import ResponsibilityUnit

    return (ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
            .select_related("district", "city__policy").order_by("id").first())


def every_document(city, admin, *, unit, clock) -> dict:
    """One document of every kind about one planner serving `unit`, each made by its own service."""
    from rpms.appointments.services import hiring_entity_name
    from rpms.assessments import services as assessments
    from rpms.assessments.permissions import assessing_body_for
    from rpms.duties import services as duties
    from rpms.geography.models import Department
    from rpms.opinions import services as opinions
    from rpms.testing.builders import appointment_build
    from rpms.training import services as training

    code = city.code
    district = unit.district
    entity_name = hiring_entity_name(unit)
    account = user(f"di_planner_{code}", Role.PLANNER, city, display_name="韩若溪")
    planner = Planner.objects.create(city=city, name="韩若溪", user=account, pool_status="active", is_fictional=True,
                                     employer="虚构规划设计研究院")
    entity = user(f"di_entity_{code}", Role.HIRING_ENTITY, city, subdistricts=unit.current_subdistricts,
                  display_name=entity_name)
    officer = user(f"di_officer_{code}", Role.DISTRICT_OFFICER, city, districts=[district],
                   display_name=f"{district.name}（测试）")

    # dispatch notice, certificate, contract — appointed the city's own way (Beijing: the entity proposes and
    # the district approves, B2, B19(1)(5); Pingdingshan: the bureau appoints, P6(2))
    appointment = appointment_build(unit=unit, planner=planner, start=clock.today, actor=admin, entity_user=entity,
                                    district_user=officer)
    # written opinion
    department = Department.objects.create(city=city, district=district, name=f"{district.name}住房和城乡建设局")
    draft = opinions.opinion_create(
        actor=account, unit=unit, subject="片区城市更新实施方案", subject_kind="design_scheme",
        developer="虚构城市更新投资有限公司", design_unit="虚构建筑设计研究院", reviewed_documents=["方案设计说明"],
        findings="沿街界面连续性不足。", recommendations="优化沿街建筑退线与界面。", departments=[department.pk],
    )
    opinions.opinion_interest_declare(actor=account, opinion=draft, has_conflict=False)
    opinion = opinions.opinion_issue(actor=account, opinion=draft)
    # work certificate (B14(4))
    record = duties.duty_record_create(
        actor=account, unit=unit, category=city.policy.duty_categories[0]["code"], date=clock.today, hours="2",
        place="社区议事厅", description="调研老旧小区公共空间现状，听取居民意见。",
    )
    duties.duty_record_confirm(actor=entity, record=record)
    work = duties.work_certificate_issue(actor=entity, planner=planner, start=clock.today, end=clock.today)
    # training certificate
    training.training_record_create(actor=admin, planner=planner, source="external", title="城市更新专题培训",
                                    date=timezone.localdate(), hours="4")
    course = training.training_certificate_issue(actor=admin, planner=planner, year=timezone.localdate().year)
    # assessment result, then the honour it earns
    lead = admin if assessing_body_for(city) == "city_with_district" else officer
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = assessments.assessment_open(actor=lead, appointment=appointment)
    criteria = {c["code"]: 95 for c in city.policy.assessment_criteria}
    for scorer in dict.fromkeys([entity, officer, lead]):
        assessments.assessment_score(actor=scorer, assessment=assessment, scores=criteria, comment="服务认真")
    # issue #12: graded in the review window with the 述职 and the 属地反馈 in
    from rpms.testing.builders import review_inputs_build

    review_inputs_build(assessment=assessment, entity_user=entity)
    assessment = assessments.assessment_grade(actor=lead, assessment=assessment, grade="excellent")
    honour = assessments.honour_nominate(actor=officer, assessment=assessment, reason="组织街区更新议事会 12 场")
    assessments.honour_decide(actor=admin, honour=honour, selected=True)
    [honour] = assessments.honour_list_publish(actor=admin, city=city, year=assessment.year)

    on_appointment = {d.kind: d for d in IssuedDocument.objects.filter(
        subject_type="appointments.appointment", subject_id=str(appointment.pk))}
    return {
        **on_appointment,
        DocumentKind.WRITTEN_OPINION: opinion.document,
        DocumentKind.WORK_CERTIFICATE: work.document,
        DocumentKind.TRAINING_CERTIFICATE: course.document,
        DocumentKind.ASSESSMENT_RESULT: assessment.result_document,
        DocumentKind.HONOUR_CERTIFICATE: honour.certificate,
        "entity_name": entity_name,
    }


def texts(document) -> tuple[str, str]:
    """(the document's HTML as text, its PDF's text), whitespace removed."""
    html = document_html(document)
    visible = re.sub(r"<[^>]+>", " ", html.split("</style>", 1)[1])
    pdf = extract_text(io.BytesIO(document_pdf(document)))
    return re.sub(r"\s+", "", visible + html.split("</style>", 1)[0]), re.sub(r"\s+", "", pdf)


def assert_the_planners_own(opinion):
    """A written opinion: signed and headed by its author, under no letterhead (it may still be
    addressed to the bureau, which is a recipient, not its issuer)."""
    html = document_html(opinion)
    assert opinion.context["letterhead"] == "" and opinion.context["issuer_name"] == "责任规划师：韩若溪"
    assert 'class="masthead"' not in html
    assert '<span class="left">责任规划师：韩若溪</span>' in html
    assert '<meta name="author" content="责任规划师：韩若溪">' in html
    assert "责任规划师：韩若溪" in texts(opinion)[1]


def test_no_pingdingshan_document_mentions_a_district_work_team(pingdingshan, pds_admin, clock):
    district = pingdingshan.districts.get(code="410402")
    made = every_document(pingdingshan, pds_admin, unit=first_unit(district), clock=clock)
    bureau = pingdingshan.bureau_name
    assert set(DocumentKind) <= set(made)

    for kind in DocumentKind:
        html, pdf = texts(made[kind])
        assert "工作专班" not in html and "工作专班" not in pdf, kind
        assert "工作专班" not in str(made[kind].context), kind
    # P6(3): the bureau appoints, certifies and signs; nothing is filed with anybody
    certificate, contract = made[DocumentKind.APPOINTMENT_CERTIFICATE], made[DocumentKind.APPOINTMENT_CONTRACT]
    assert certificate.context["issuer_name"] == bureau == contract.context["issuer_name"]
    assert contract.context["filing_body"] == "" and "备案" not in texts(contract)[1]
    # P6(2): the dispatch notice goes to the local government and the planner
    assert made[DocumentKind.DISPATCH_NOTICE].context["recipients"] == ["新华区人民政府", "韩若溪"]
    # P6(4): the bureau together with the local government
    assert made[DocumentKind.ASSESSMENT_RESULT].context["issuer_name"] == f"{bureau}、新华区人民政府"
    assert f"{bureau}、新华区人民政府" in texts(made[DocumentKind.ASSESSMENT_RESULT])[1]
    assert_the_planners_own(made[DocumentKind.WRITTEN_OPINION])


def test_beijing_documents_name_the_hiring_entity_and_the_district_work_team(beijing, city_admin, haidian, clock):
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.select_related("district", "city__policy").get(
        city=beijing, dissolved_at__isnull=True, memberships__subdistrict__code="110108001",
        memberships__left_at__isnull=True)
    made = every_document(beijing, city_admin, unit=unit, clock=clock)
    entity = made["entity_name"]
    bureau = beijing.bureau_name
    team = "海淀区责任规划师工作专班"

    # B19(3): the hiring entity appoints: the certificate is its own, on its own letterhead
    certificate = made[DocumentKind.APPOINTMENT_CERTIFICATE]
    assert (certificate.context["issuer_name"], certificate.context["letterhead"]) == (entity, entity)
    html, pdf = texts(certificate)
    assert bureau not in pdf and entity in pdf
    # the contract between the parties, filed with the district work team
    contract = made[DocumentKind.APPOINTMENT_CONTRACT]
    assert contract.context["filing_body"] == team and contract.context["letterhead"] == ""
    assert f"报{team}备案" in texts(contract)[1]
    # B2, B19(1)(5): selected by the entity and the district together, the dispatch notice is theirs (not the
    # bureau's, which does not appoint here), addressed to the planner
    notice = made[DocumentKind.DISPATCH_NOTICE]
    assert notice.context["issuer_name"] == f"{entity}、{team}" == notice.context["letterhead"]
    assert notice.context["recipients"] == ["韩若溪"] and bureau not in texts(notice)[1]
    # B20: the district work team assesses
    assert made[DocumentKind.ASSESSMENT_RESULT].context["issuer_name"] == team
    # B14(4): the work certificate is the hiring entity's
    assert made[DocumentKind.WORK_CERTIFICATE].context["letterhead"] == entity
    assert_the_planners_own(made[DocumentKind.WRITTEN_OPINION])
