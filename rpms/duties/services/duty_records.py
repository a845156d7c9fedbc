"""Duty records (B11 / P3): a planner records its duties; the hiring entity confirms or queries them."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.inputs import clean_or_refuse

from ..models import MAX_HOURS_PER_RECORD, DutyEvidence, DutyQuery, DutyRecord, DutyStatus
from ..permissions import can_confirm_duty, is_record_planner
from ._common import _date, _file_row, _require_planner, _serving, _text, _with_stored_files

MAX_EVIDENCE_PER_RECORD = 20
EVIDENCE_FOLDER = "duties/evidence"


def unit_focus_options(unit) -> list[dict]:
    """The zone-type focus lists (B13) that apply to a unit: one entry per zone type of its current
    subdistricts ({"code","label","article","focus"}); empty where the city has no zone types."""
    from rpms.geography.models import Subdistrict

    policy = unit.city.policy
    subdistricts = Subdistrict.objects.filter(memberships__unit=unit, memberships__left_at__isnull=True).select_related(
        "district"
    )
    codes = []
    for subdistrict in subdistricts:
        code = subdistrict.zone_type
        if code and code not in codes:
            codes.append(code)
    if not codes and unit.district.zone_type:
        codes.append(unit.district.zone_type)
    options = []
    for code in codes:
        item = policy.zone_type(code)
        if item:
            options.append({"code": code, "label": item["label"], "article": item.get("article", ""),
                            "focus": list(item.get("focus") or [])})
    return options


def _focus_clean(unit, focus) -> list[str]:
    if focus in (None, ""):
        return []
    if isinstance(focus, str):
        focus = [focus]
    if not isinstance(focus, (list, tuple)):
        raise DomainError("工作重点格式不正确。", code="invalid_focus")
    options = unit_focus_options(unit)
    allowed = [item for option in options for item in option["focus"]]
    # The zone types' own articles (B13 in Beijing); a city whose zone types cite none shows none.
    cited = "、".join(dict.fromkeys(o["article"] for o in options if o.get("article")))
    chosen = []
    for item in focus:
        item = str(item).strip()
        if not item:
            continue
        if item not in allowed:
            raise DomainError(
                f"“{item}”不是本责任单元功能区类型的工作重点{f'（{cited}）' if cited else ''}。" if allowed
                else "本责任单元没有可选的功能区工作重点。",
                code="invalid_focus",
            )
        if item not in chosen:
            chosen.append(item)
    return chosen


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("时长应为数字（小时）。", code="invalid_hours") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS_PER_RECORD:
        raise DomainError("时长应大于 0 且不超过 24 小时。", code="invalid_hours")
    if hours != hours.quantize(Decimal("0.1")):
        raise DomainError("时长最多保留一位小数（如 1.5 小时）。", code="invalid_hours")
    return hours.quantize(Decimal("0.1"))


def _category(city, code) -> str:
    code = str(code or "").strip()
    if not city.policy.duty_category(code):
        labels = "、".join(f"{c['code']}（{c['label']}）" for c in city.policy.duty_categories)
        raise DomainError(f"工作职责类别不正确，应为本市规定的类别之一：{labels}。", code="invalid_category")
    return code


def _duty_values(*, actor, unit, values: dict, exclude_pk=None) -> tuple[dict, object]:
    """Validates a record's fields; returns (cleaned values, the serving appointment on its date)."""
    day = _date(values.get("date"), label="日期")
    if day > clock.today():
        raise DomainError("不能记录未来日期的履职。", code="date_in_future")
    appointment = _serving(actor, unit, day)
    cleaned = {
        "category": _category(unit.city, values.get("category")),
        "date": day,
        "hours": _hours(values.get("hours")),
        "place": _text(values.get("place"), label="地点", max_length=200, required=True),
        "participants": _text(values.get("participants"), label="参与人员", max_length=500),
        "description": _text(values.get("description"), label="工作内容", max_length=5000, required=True),
        "focus": _focus_clean(unit, values.get("focus")),
    }
    # A day has 24 hours: all of one planner's records on a day together may not exceed them.
    others = DutyRecord.objects.filter(planner=appointment.planner, date=day)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    already = others.aggregate(total=Sum("hours"))["total"] or Decimal(0)
    if already + cleaned["hours"] > MAX_HOURS_PER_RECORD:
        raise DomainError(
            f"{day:%Y-%m-%d} 已记录 {already} 小时，加上本条将超过一天 24 小时。", code="daily_hours_exceeded"
        )
    return cleaned, appointment


def _lock_record(record) -> DutyRecord:
    return DutyRecord.objects.select_for_update(of=("self",)).select_related("city__policy", "unit__district", "planner").get(
        pk=record.pk
    )


def _refuse_if_locked(record) -> None:
    if record.is_locked:
        raise Conflict("该履职记录已由聘任主体确认，已锁定，不能修改或删除。", code="duty_record_locked")


DUTY_FIELDS = ["category", "date", "hours", "place", "participants", "description", "focus", "status"]


@transaction.atomic
def duty_record_create(
    *, actor, unit, category, date, hours, place, description, participants: str = "", focus=(), evidence=(),
    evidence_labels=(),
) -> DutyRecord:
    """A planner records a duty in a unit it serves on that date (B11 / P3), with optional evidence files."""
    _require_planner(actor)
    if unit.dissolved_at is not None:
        raise DomainError("该责任单元已撤销。", code="unit_dissolved")
    values = {"category": category, "date": date, "hours": hours, "place": place, "participants": participants,
              "description": description, "focus": list(focus or [])}
    cleaned, appointment = _duty_values(actor=actor, unit=unit, values=values)
    files = list(evidence or [])
    if len(files) > MAX_EVIDENCE_PER_RECORD:
        raise DomainError(f"每条履职记录最多上传 {MAX_EVIDENCE_PER_RECORD} 份佐证材料。", code="too_many_files")
    labels = list(evidence_labels or [])

    def body(stored):
        record = DutyRecord(city=unit.city, unit=unit, appointment=appointment, planner=appointment.planner,
                            status=DutyStatus.SUBMITTED, submitted_at=clock.now(), created_by=actor, **cleaned)
        clean_or_refuse(record)
        record.save()
        for index, item in enumerate(stored):
            label = _text(labels[index] if index < len(labels) else "", label="材料名称", max_length=100)
            _file_row(DutyEvidence, item, actor=actor, record=record, label=label)
        label = record.category_label()
        audit_log(actor=actor, action="duties.duty_record_create", obj=record, after=snapshot(record, DUTY_FIELDS),
                  article=policy_article(unit.city, "duty_record"),
                  summary=f"{appointment.planner.name} 记录履职：{record.date:%Y-%m-%d} {unit.name} {label} {record.hours} 小时"
                          + (f"，佐证材料 {len(stored)} 份" if stored else ""))
        return record

    return _with_stored_files(files, EVIDENCE_FOLDER, body)


@transaction.atomic
def duty_record_update(*, actor, record: DutyRecord, **changes) -> DutyRecord:
    """The planner edits its own record while it is not confirmed (submitted or queried)."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以修改。", code="not_author")
    _refuse_if_locked(record)
    unknown = set(changes) - {"category", "date", "hours", "place", "participants", "description", "focus"}
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
    before = snapshot(record, DUTY_FIELDS)
    values = {key: getattr(record, key) for key in ("category", "date", "hours", "place", "participants", "description", "focus")}
    values.update(changes)
    cleaned, appointment = _duty_values(actor=actor, unit=record.unit, values=values, exclude_pk=record.pk)
    for key, value in cleaned.items():
        setattr(record, key, value)
    record.appointment = appointment
    clean_or_refuse(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_update", obj=record, before=before,
              after=snapshot(record, DUTY_FIELDS), article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 修改履职记录（{record.date:%Y-%m-%d} {record.unit.name}）")
    return record


@transaction.atomic
def duty_record_delete(*, actor, record: DutyRecord) -> None:
    """The planner deletes its own unconfirmed record; a confirmed record is locked (409)."""
    from rpms.core.uploads import proof_delete

    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以删除。", code="not_author")
    _refuse_if_locked(record)
    paths = list(record.evidence.values_list("path", flat=True))
    audit_log(actor=actor, action="duties.duty_record_delete", obj=record, before=snapshot(record, DUTY_FIELDS),
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 删除未确认的履职记录（{record.date:%Y-%m-%d} {record.unit.name}）")
    record.delete()
    transaction.on_commit(lambda: [proof_delete(p) for p in paths])


@transaction.atomic
def duty_evidence_add(*, actor, record: DutyRecord, file, label: str = "") -> DutyEvidence:
    """The planner adds a photo or file (PDF/JPEG/PNG, checked by content) to its unconfirmed record."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以上传佐证材料。", code="not_author")
    _refuse_if_locked(record)
    if record.evidence.count() >= MAX_EVIDENCE_PER_RECORD:
        raise DomainError(f"每条履职记录最多上传 {MAX_EVIDENCE_PER_RECORD} 份佐证材料。", code="too_many_files")
    label = _text(label, label="材料名称", max_length=100)

    def body(stored):
        evidence = _file_row(DutyEvidence, stored[0], actor=actor, record=record, label=label)
        audit_log(actor=actor, action="duties.duty_evidence_add", obj=record,
                  after={"evidence": evidence.pk, "name": evidence.original_name, "kind": evidence.kind,
                         "sha256": evidence.sha256},
                  article=policy_article(record.city, "duty_record"),
                  summary=f"{record.planner.name} 为履职记录上传佐证材料 {evidence.original_name}"[:255])
        return evidence

    return _with_stored_files([file], EVIDENCE_FOLDER, body)


@transaction.atomic
def duty_evidence_remove(*, actor, evidence: DutyEvidence) -> None:
    from rpms.core.uploads import proof_delete

    record = _lock_record(evidence.record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以删除佐证材料。", code="not_author")
    _refuse_if_locked(record)
    path, name = evidence.path, evidence.original_name
    audit_log(actor=actor, action="duties.duty_evidence_remove", obj=record,
              before={"evidence": evidence.pk, "name": name, "sha256": evidence.sha256},
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 删除履职记录的佐证材料 {name}"[:255])
    DutyEvidence.objects.filter(pk=evidence.pk).delete()
    transaction.on_commit(lambda: proof_delete(path))


def _require_confirmer(actor, record) -> None:
    if not can_confirm_duty(actor, record):
        raise Forbidden("只有该责任单元的聘任主体或区级主管部门可以确认或质询履职记录。", code="not_confirmer")


@transaction.atomic
def duty_record_confirm(*, actor, record: DutyRecord) -> DutyRecord:
    """The hiring entity (or district officer) confirms a record; it is then locked."""
    record = _lock_record(record)
    _require_confirmer(actor, record)
    if not record.can_become(DutyStatus.CONFIRMED):
        if record.status == DutyStatus.QUERIED:
            raise Conflict("该记录的疑问尚待责任规划师答复，答复后才能确认。", code="duty_record_queried")
        raise Conflict("该履职记录已确认。", code="duty_record_locked")
    before = snapshot(record, DUTY_FIELDS)
    record.move_to(DutyStatus.CONFIRMED)
    record.confirmed_at = clock.now()
    record.confirmed_by = actor
    clean_or_refuse(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_confirm", obj=record, before=before,
              after=snapshot(record, DUTY_FIELDS + ["confirmed_at", "confirmed_by"]),
              article=policy_article(record.city, "duty_confirm"),
              summary=f"{actor} 确认 {record.planner.name} 的履职记录（{record.date:%Y-%m-%d} {record.unit.name}）"[:255])
    return record


@transaction.atomic
def duty_record_query(*, actor, record: DutyRecord, question: str) -> DutyQuery:
    """The hiring entity (or district officer) asks the planner about a record instead of confirming it."""
    record = _lock_record(record)
    _require_confirmer(actor, record)
    question = _text(question, label="疑问", max_length=2000, required=True)
    if not record.can_become(DutyStatus.QUERIED):
        if record.status == DutyStatus.QUERIED:
            raise Conflict("该记录已有待答复的疑问。", code="duty_record_queried")
        raise Conflict("该履职记录已确认，已锁定。", code="duty_record_locked")
    before = snapshot(record, DUTY_FIELDS)
    query = DutyQuery(record=record, question=question, asked_by=actor, asked_at=clock.now())
    clean_or_refuse(query)
    query.save()
    record.move_to(DutyStatus.QUERIED)
    clean_or_refuse(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_query", obj=record, before=before,
              after={**snapshot(record, DUTY_FIELDS), "question": question},
              article=policy_article(record.city, "duty_confirm"),
              summary=f"{actor} 对 {record.planner.name} 的履职记录提出疑问（{record.date:%Y-%m-%d}）"[:255])
    return query


@transaction.atomic
def duty_record_answer(*, actor, record: DutyRecord, answer: str, changes: dict | None = None) -> DutyRecord:
    """The planner answers the open question, optionally corrects the record, and resubmits it."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以答复。", code="not_author")
    if record.status != DutyStatus.QUERIED:
        raise Conflict("该履职记录没有待答复的疑问。", code="duty_record_not_queried")
    answer = _text(answer, label="答复", max_length=2000, required=True)
    before = snapshot(record, DUTY_FIELDS)
    if changes:
        unknown = set(changes) - {"category", "date", "hours", "place", "participants", "description", "focus"}
        if unknown:
            raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
        values = {k: getattr(record, k) for k in ("category", "date", "hours", "place", "participants", "description", "focus")}
        values.update(changes)
        cleaned, appointment = _duty_values(actor=actor, unit=record.unit, values=values, exclude_pk=record.pk)
        for key, value in cleaned.items():
            setattr(record, key, value)
        record.appointment = appointment
    query = record.queries.filter(answered_at__isnull=True).order_by("-asked_at", "-id").first()
    if query is not None:
        query.answer = answer
        query.answered_by = actor
        query.answered_at = clock.now()
        clean_or_refuse(query)
        query.save()
    record.move_to(DutyStatus.SUBMITTED)
    record.submitted_at = clock.now()
    clean_or_refuse(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_answer", obj=record, before=before,
              after={**snapshot(record, DUTY_FIELDS), "answer": answer},
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 答复疑问并重新提交履职记录（{record.date:%Y-%m-%d}）"[:255])
    return record
