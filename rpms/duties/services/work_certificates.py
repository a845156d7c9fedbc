"""Work certificates (B14(4)): the hiring entity certifies a planner's confirmed duty records over a period."""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from rpms.accounts.models import Role
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.errors import DomainError, Forbidden
from rpms.core.inputs import clean_or_refuse

from ..models import DutyRecord, DutyStatus, WorkCertificate
from ..permissions import entity_unit_ids
from ._common import _date, _entity_name, _text


def work_certificate_basis(*, actor, planner, start, end) -> dict:
    """What a certificate for `planner` over [start, end] would say, from the CONFIRMED records in the
    actor's units only: {"records": [...ids], "record_count", "total_hours", "categories": [{code,label,
    hours,records}], "units": [names], "unit_ids"}. Two queries (one aggregate, one for the ids/units)."""
    from django.db.models import Count

    start = _date(start, label="期间开始")
    end = _date(end, label="期间结束")
    if end < start:
        raise DomainError("期间结束不能早于期间开始。", code="invalid_period")
    if end > clock.today():
        raise DomainError("证明期间不能晚于今天。", code="invalid_period")
    unit_ids = entity_unit_ids(actor)
    confirmed = DutyRecord.objects.filter(planner=planner, status=DutyStatus.CONFIRMED, unit_id__in=unit_ids,
                                          date__gte=start, date__lte=end)
    policy = planner.city.policy
    order = {c["code"]: i for i, c in enumerate(policy.duty_categories)}
    rows = list(confirmed.values("category").annotate(sum_hours=Sum("hours"), n_records=Count("id")).order_by())
    rows.sort(key=lambda r: order.get(r["category"], 99))
    categories = [{"code": r["category"], "label": (policy.duty_category(r["category"]) or {}).get("label", r["category"]),
                   "hours": Decimal(r["sum_hours"] or 0).quantize(Decimal("0.1")), "records": r["n_records"]} for r in rows]
    pairs = list(confirmed.values_list("pk", "unit_id", "unit__name").order_by("date", "pk"))
    units = {}
    for _, unit_id, unit_name in pairs:
        units.setdefault(unit_id, unit_name)
    return {
        "start": start,
        "end": end,
        "records": [pk for pk, _, _ in pairs],
        "record_count": sum(r["records"] for r in categories),
        "total_hours": sum((r["hours"] for r in categories), Decimal(0)),
        "categories": categories,
        "unit_ids": list(units),
        "units": list(units.values()),
    }


def _hours_text(value) -> str:
    value = Decimal(value)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.1f}"


@transaction.atomic
def work_certificate_issue(*, actor, planner, start, end) -> WorkCertificate:
    """B14(4): the hiring entity issues a work certificate for a period, generated from the CONFIRMED
    duty records of its units (unconfirmed ones are left out), as a document with a verification code."""
    from rpms.documents.issuers import document_issuer
    from rpms.documents.services import document_issue

    if not getattr(actor, "is_authenticated", False) or actor.role != Role.HIRING_ENTITY:
        raise Forbidden("工作证明由聘任主体（街道办事处、乡镇政府、园区管委会）出具。", code="entity_only")
    basis = work_certificate_basis(actor=actor, planner=planner, start=start, end=end)
    if not basis["records"]:
        raise DomainError(
            f"{basis['start']:%Y-%m-%d} 至 {basis['end']:%Y-%m-%d} 期间，{planner.name}在本单位的责任单元没有已确认的履职记录，"
            "不能出具工作证明。请先确认履职记录。",
            code="no_confirmed_records",
        )
    city = planner.city
    article = policy_article(city, "work_certificate")
    issuer = _entity_name(actor)
    now = clock.now()
    certificate = WorkCertificate(
        city=city, planner=planner, period_start=basis["start"], period_end=basis["end"], issuer_name=issuer,
        issued_by=actor, issued_at=now, record_count=basis["record_count"], total_hours=basis["total_hours"],
        summary=[{"code": c["code"], "label": c["label"], "hours": str(c["hours"]), "records": c["records"]}
                 for c in basis["categories"]],
    )
    period = f"{basis['start']:%Y年%m月%d日}至{basis['end']:%Y年%m月%d日}"
    units_text = "、".join(basis["units"])
    who = planner.name if planner.kind == "individual" else f"{planner.name}（负责人：{planner.leader_name or '—'}）"
    context = {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.localdate(now).isoformat(),
        # B14(4): the hiring entity's own certificate, on its own letterhead
        **document_issuer(city=city, kind="work_certificate", hiring_entity=issuer).context(),
        "articles": [article],
        "article_note": f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}），根据已确认的履职记录出具。",
        "heading": "责任规划师工作证明",
        "fields": [
            {"label": "责任规划师", "value": who},
            {"label": "工作单位", "value": planner.employer or "—"},
            {"label": "服务责任单元", "value": units_text},
            {"label": "证明期间", "value": period},
            {"label": "已确认履职记录", "value": f"{basis['record_count']} 条"},
            {"label": "合计时长", "value": f"{_hours_text(basis['total_hours'])} 小时"},
        ],
        "paragraphs": [
            (f"兹证明{who}于{period}在{units_text}履行责任规划师职责，"
             f"经本单位确认的履职记录共 {basis['record_count']} 条，合计 {_hours_text(basis['total_hours'])} 小时，各类工作情况见下表。"),
            "本证明仅依据经本单位确认的履职记录生成，未确认的记录不计入。",
            "特此证明。",
        ],
        "items": [{"label": c["label"], "value": f"{_hours_text(c['hours'])} 小时，{c['records']} 条记录"}
                  for c in basis["categories"]],
    }

    clean_or_refuse(certificate)
    certificate.save()
    certificate.units.set(basis["unit_ids"])
    certificate.records.set(basis["records"])
    # Issued inside this transaction: if anything below fails, the document goes with the certificate.
    document = document_issue(actor=actor, city=city, kind="work_certificate", title="责任规划师工作证明",
                              subject=certificate, context=context, holder_name=planner.name)
    certificate.document = document
    certificate.save(update_fields=["document", "updated_at"])
    audit_log(actor=actor, action="duties.work_certificate_issue", obj=certificate,
              after={"planner": planner.pk, "period_start": basis["start"], "period_end": basis["end"],
                     "record_count": basis["record_count"], "total_hours": basis["total_hours"],
                     "records": basis["records"], "document": document.number,
                     "verification_code": document.verification_code},
              article=article,
              summary=f"{issuer} 为 {planner.name} 出具工作证明（{period}，{basis['record_count']} 条记录），文书 {document.number}"[:255])
    return certificate


@transaction.atomic
def work_certificate_revoke(*, actor, certificate: WorkCertificate, reason: str) -> WorkCertificate:
    """The issuing entity revokes a certificate with a reason (shown on the public verification page)."""
    from rpms.documents.services import document_revoke

    certificate = WorkCertificate.objects.select_for_update(of=("self",)).select_related("document", "city", "planner").get(
        pk=certificate.pk
    )
    unit_ids = set(certificate.units.values_list("pk", flat=True))
    if not (getattr(actor, "is_authenticated", False) and actor.role == Role.HIRING_ENTITY
            and unit_ids & entity_unit_ids(actor)):
        raise Forbidden("只有出具该证明的聘任主体可以撤销。", code="not_issuer")
    reason = _text(reason, label="撤销原因", max_length=500, required=True)
    before = {"status": certificate.document.status}
    document_revoke(actor=actor, document=certificate.document, reason=reason)
    certificate.document.refresh_from_db()
    audit_log(actor=actor, action="duties.work_certificate_revoke", obj=certificate, before=before,
              after={"status": certificate.document.status, "reason": reason},
              article=policy_article(certificate.city, "work_certificate"),
              summary=f"{actor} 撤销 {certificate.planner.name} 的工作证明 {certificate.document.number}：{reason}"[:255])
    return certificate
