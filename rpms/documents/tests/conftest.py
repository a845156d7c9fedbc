"""Sample document contexts shaped exactly as the appointments context will pass them, built from
the real city policies (reference fixture in the root conftest), and an `issue` helper."""
import pytest
from django.db import transaction

from rpms.documents.models import DocumentKind
from rpms.documents.services import document_issue


def common(city) -> dict:
    return {
        "city_name": city.name,
        "bureau_name": city.bureau_name,
        "rulebook_title": city.rulebook_title,
        "issued_on": "2026-03-02",
        "issuer_name": city.bureau_name,
        "articles": ["B19(1)", "B19(3)"] if city.article_prefix == "B" else ["P6(2)", "P6(3)"],
        "article_note": "首个聘期为一年。",
    }


def dispatch_notice_context(city) -> dict:
    policy = city.policy
    return {
        **common(city),
        "recipients": ["海淀区规划自然资源主管部门", "万寿路街道办事处", "城市更新设计团队"],
        "planner_name": "城市更新设计团队",
        "planner_kind_label": "团队",
        "leader_name": "林若溪",
        "employer": "北京某规划设计研究院（虚构）",
        "unit_name": "万寿路街道责任单元",
        "district_name": "海淀区",
        "subdistricts": ["万寿路街道"],
        "role_label": "责任规划师",
        "start": "2026-03-09",
        "end": "2027-03-08",
        "term_years": 1,
        "duties": [d["label"] for d in policy.duty_categories],
        "service_focus": "老旧小区综合整治与街区更新",
        "contact_note": "通过街道办事处城市管理科联系，公开联系邮箱 wsl-planner@example.org。",
    }


def certificate_context(city) -> dict:
    return {
        **common(city),
        "planner_name": "城市更新设计团队",
        "planner_kind_label": "团队",
        "leader_name": "林若溪",
        "core_members": [
            {"name": "林若溪", "specialty_label": "城乡规划"},
            {"name": "周明远", "specialty_label": "建筑设计"},
            {"name": "韩雪", "specialty_label": "风景园林"},
        ],
        "employer": "北京某规划设计研究院（虚构）",
        "unit_name": "万寿路街道责任单元",
        "district_name": "海淀区",
        "role_label": "责任规划师",
        "start": "2026-03-09",
        "end": "2027-03-08",
    }


def contract_context(city) -> dict:
    return {
        **common(city),
        "party_a": "万寿路街道办事处",
        "party_b": "城市更新设计团队",
        "party_b_leader": "林若溪",
        "party_b_employer": "北京某规划设计研究院（虚构）",
        "planner_kind_label": "团队",
        "unit_name": "万寿路街道责任单元",
        "district_name": "海淀区",
        "subdistricts": ["万寿路街道"],
        "role_label": "责任规划师",
        "start": "2026-03-09",
        "end": "2027-03-08",
        "term_years": 1,
        "fee_yuan": 200000,
        "fee_note": "分两期支付",
        "duties": [d["label"] for d in city.policy.duty_categories],
        "service_focus": "老旧小区综合整治与街区更新",
        "clauses": [
            {"code": c["code"], "label": c["label"], "article": c.get("article", ""), "text": c["text"]}
            for c in city.policy.contract_clauses
        ],
        "filing_body": "海淀区责任规划师工作专班",
    }


def generic_context(city, heading) -> dict:
    return {
        **common(city),
        "heading": heading,
        "fields": [{"label": "责任单元", "value": "万寿路街道责任单元"}, {"label": "项目名称", "value": "翠微路口袋公园改造"}],
        "paragraphs": ["经现场踏勘并听取居民意见，对设计方案提出以下意见。", "建议保留现状大树，增加无障碍坡道。"],
        "items": [{"label": "绿化", "value": "保留现状乔木 12 株"}, {"label": "无障碍", "value": "入口增设坡道"}],
    }


CONTEXT_BUILDERS = {
    DocumentKind.DISPATCH_NOTICE: (dispatch_notice_context, "责任规划师派驻通知"),
    DocumentKind.APPOINTMENT_CERTIFICATE: (certificate_context, "聘任证书"),
    DocumentKind.APPOINTMENT_CONTRACT: (contract_context, "责任规划师聘用合同"),
    DocumentKind.WRITTEN_OPINION: (lambda city: generic_context(city, "责任规划师书面意见"), "责任规划师书面意见"),
    DocumentKind.WORK_CERTIFICATE: (lambda city: generic_context(city, "工作证明"), "工作证明"),
    DocumentKind.TRAINING_CERTIFICATE: (lambda city: generic_context(city, "继续教育学时证明"), "继续教育学时证明"),
    DocumentKind.ASSESSMENT_RESULT: (lambda city: generic_context(city, "考核结果通知"), "考核结果通知"),
    DocumentKind.HONOUR_CERTIFICATE: (lambda city: generic_context(city, "荣誉证书"), "荣誉证书"),
}


@pytest.fixture
def issue(city_admin):
    """issue(city, kind, **overrides) → an IssuedDocument with the sample context for that kind."""

    def _issue(city, kind, *, subject=None, context=None, title=None, holder_name="城市更新设计团队", **kwargs):
        builder, default_title = CONTEXT_BUILDERS[DocumentKind(kind)]
        with transaction.atomic():
            return document_issue(
                actor=kwargs.pop("actor", city_admin),
                city=city,
                kind=kind,
                title=title or default_title,
                subject=subject if subject is not None else city,
                context=context if context is not None else builder(city),
                holder_name=holder_name,
                **kwargs,
            )

    return _issue
