"""Who issues what, per city, from the policy (rpms.documents.issuers): a certificate from the body
that appoints (Beijing: the hiring entity, B19(3); Pingdingshan: the bureau, P6(3)); an assessment
result from the district work team where the district assesses, else the bureau with the local
government (P6(4)); a written opinion under no letterhead; a contract filed only where the policy
files it; and no 区级责任规划师工作专班 where the city has none."""
import io
import re

import pytest
from pdfminer.high_level import extract_text

from rpms.documents.issuers import (
    assessment_led_by_city,
    contract_filing_body,
    dispatch_notice_recipients,
    district_body_name,
    district_work_team_name,
    document_issuer,
    local_government_name,
)
from rpms.documents.models import DocumentKind
from rpms.documents.rendering import document_html, document_pdf

from .conftest import generic_context

pytestmark = pytest.mark.django_db

ENTITY = "万寿路街道办事处"


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def issuer(city, kind, **kwargs):
    return document_issuer(city=city, kind=kind, **kwargs)


def test_beijing_issuers(beijing, haidian):
    bureau = "北京市规划和自然资源委员会"
    team = "海淀区责任规划师工作专班"
    # B19(3): the hiring entity appoints and signs; the contract is filed with the district work team
    assert issuer(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, hiring_entity=ENTITY).name == ENTITY
    assert issuer(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, hiring_entity=ENTITY).letterhead == ENTITY
    contract = issuer(beijing, DocumentKind.APPOINTMENT_CONTRACT, hiring_entity=ENTITY)
    assert (contract.name, contract.letterhead) == (ENTITY, "")
    assert contract_filing_body(beijing, haidian) == team
    # B2, B19(1)(5): local selection — the hiring entity with the district's work team, not the bureau
    notice = issuer(beijing, DocumentKind.DISPATCH_NOTICE, district=haidian, hiring_entity=ENTITY)
    assert notice.name == f"{ENTITY}、{team}" and bureau not in notice.name
    # B20: the district work team assesses
    assert not assessment_led_by_city(beijing)
    assert issuer(beijing, DocumentKind.ASSESSMENT_RESULT, district=haidian).name == team
    # B14(4): the hiring entity's work certificate, on its own letterhead
    assert issuer(beijing, DocumentKind.WORK_CERTIFICATE, hiring_entity=ENTITY).letterhead == ENTITY
    assert issuer(beijing, DocumentKind.TRAINING_CERTIFICATE).name == bureau
    assert issuer(beijing, DocumentKind.HONOUR_CERTIFICATE).name == bureau
    assert district_body_name(beijing, haidian) == team


def test_pingdingshan_issuers(pingdingshan):
    bureau = "平顶山市自然资源和规划局"
    district = pingdingshan.districts.get(name="新华区")
    # P6(3): the bureau appoints, issues the certificate and signs the contract; nobody files it
    for kind in (DocumentKind.APPOINTMENT_CERTIFICATE, DocumentKind.APPOINTMENT_CONTRACT, DocumentKind.DISPATCH_NOTICE):
        assert issuer(pingdingshan, kind, district=district, hiring_entity="光明路街道办事处").name == bureau, kind
    assert issuer(pingdingshan, DocumentKind.APPOINTMENT_CONTRACT).letterhead == ""
    assert contract_filing_body(pingdingshan, district) == ""
    assert district_work_team_name(pingdingshan, district) == ""
    # P6(2): the notice goes to the local government and the planner
    assert dispatch_notice_recipients(pingdingshan, district=district, hiring_entity="光明路街道办事处",
                                      planner_name="韩若溪") == ["新华区人民政府", "韩若溪"]
    # P6(4): the bureau together with the local government
    assert assessment_led_by_city(pingdingshan)
    assert issuer(pingdingshan, DocumentKind.ASSESSMENT_RESULT, district=district).name == f"{bureau}、新华区人民政府"
    assert district_body_name(pingdingshan, district) == "新华区人民政府"
    zone = pingdingshan.districts.get(name="平顶山高新技术产业开发区")
    zone.is_development_zone = True
    assert local_government_name(zone) == "平顶山高新技术产业开发区管理委员会"


def test_a_written_opinion_is_its_authors_own(beijing, pingdingshan):
    for city in (beijing, pingdingshan):
        opinion = issuer(city, DocumentKind.WRITTEN_OPINION, author="责任规划师：林清源")
        assert (opinion.name, opinion.letterhead) == ("责任规划师：林清源", "")


def test_the_bodies_follow_the_policy_not_the_city(beijing, haidian):
    """Rules are data: a city without district work teams names none, and its bureau assesses."""
    beijing.policy.district_work_teams = False
    assert district_work_team_name(beijing, haidian) == ""
    assert contract_filing_body(beijing, haidian) == ""
    assert assessment_led_by_city(beijing)
    assert "工作专班" not in issuer(beijing, DocumentKind.DISPATCH_NOTICE, district=haidian, hiring_entity=ENTITY).name
    assert "工作专班" not in issuer(beijing, DocumentKind.ASSESSMENT_RESULT, district=haidian).name


def test_a_written_opinion_prints_under_no_bureau_letterhead(beijing, issue):
    context = {**generic_context(beijing, "书面意见"), "issuer_name": "责任规划师：林清源", "letterhead": ""}
    document = issue(beijing, DocumentKind.WRITTEN_OPINION, context=context, holder_name="林清源")
    html = document_html(document)
    text = flat(extract_text(io.BytesIO(document_pdf(document))))
    assert 'class="masthead"' not in html
    assert beijing.bureau_name not in text and "责任规划师：林清源" in text


def test_a_certificate_prints_its_issuer_as_letterhead_and_signature(beijing, issue):
    from .conftest import certificate_context

    context = {**certificate_context(beijing), "issuer_name": ENTITY, "letterhead": ENTITY}
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, context=context)
    html = document_html(document)
    assert f'<div class="masthead">{ENTITY}</div>' in html
    assert f'<meta name="author" content="{ENTITY}">' in html
    assert beijing.bureau_name not in re.sub(r"<[^>]+>", "", html.split("</style>", 1)[1])
