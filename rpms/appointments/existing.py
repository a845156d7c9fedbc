"""Running contracts entered with their history (既有聘任补录, issue #11 item 10).

Beijing has had responsible planners since 2019 and Pingdingshan before this system: their contracts
were signed on paper. An ordinary appointment may start at most START_GRACE_DAYS back; a running
contract is entered here instead, with its real first day, its terms (the first and each renewal) and
the number and signing date of its paper contract.

Who: the city administrator; in a local-selection city (policy appointment_mode local_selection,
Beijing, B19(5)) also the unit's district officer (`permissions.can_enter_existing`).

What is checked — every rule of an appointment, on the real dates:
- the planner is in the city's pool (planners of running contracts must be in the registry: a roster
  import or a commission puts them there first); teams only where the policy allows them;
- the unit exists in the city and is not dissolved; the role is one of the policy's roles;
- the same planner has no other appointment in the same unit overlapping these dates;
- B19(2): with this appointment the planner serves no more than `max_units_per_planner` units on any
  day of its dates (`services.unit_cap_check`, which ordinary appointments use as well);
- the terms (decided strictness): the first term starts on `start` and lasts exactly the policy's
  `first_term_years`; each renewal starts the day after the previous term ends (no gap, no overlap)
  and lasts a whole number of years within `renewal_years_min..max`; "a whole number of years" means
  it ends on the day before the same calendar day (`services.term_end`), as the system's own terms do.
  Without `terms`, one first term of `first_term_years` from `start` is assumed;
- only contracts still running are entered: a last term that ended before today is refused (the
  system records who serves now; an ended contract is history that needs no entry). The start may lie
  any time in the past (not before EARLIEST_START, a guard against typing errors) but not after today;
- the paper contract's number (no personal identifiers) and signing date (not after today, not after
  the current term's end, not more than a year before its start) are those of the current term.

What is written, in one transaction: the appointment (source "existing", its terms' rows with
their paper contract number and signing date), the certificate and the contract of the current term
issued as records of the paper originals (`paper_original` in their context: the PDF says
"本文书为纸质原件（编号…，签订于…）的系统记录"), no dispatch notice (the dispatch happened on
paper long ago), the planner's dossier rows on the real dates (appointed on the first day, renewed
on each renewal's first day, each with the city's article), and one audit row citing the city's
article for the step "existing_entry" (B19(3) / P6(3)). The contract is then filed as any other.

The checks are split so that the bulk import (rpms.appointments.existing_import) applies the very
same ones to each row before anything is written: `terms_plan` and `paper_check` need no database,
`rules_check` works on preloaded records and spans."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.cities.models import AppointmentMode
from rpms.cities.selectors import policy_article
from rpms.core import clock, hooks
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.registry.models import DossierEventKind, PlannerKind, PoolStatus
from rpms.registry.services import dossier_event_record, full_clean_or_refuse, planner_lock

from . import permissions, services
from .models import Appointment, AppointmentStatus, AppointmentTerm, TermKind

SOURCE = "existing"
STEP = "existing_entry"
MAX_TERMS = 20
EARLIEST_START = dt.date(2000, 1, 1)
SIGNED_BEFORE_TERM_DAYS = 366
CONTRACT_NUMBER_MAX = 64

_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _refuse(message: str, *, field: str, code: str, conflict: bool = False, **details) -> DomainError:
    """A refusal naming the input it concerns (`details.field`), so that forms and the import can
    show it at its place."""
    kind = Conflict if conflict else DomainError
    return kind(message, code=code, details={"field": field, **details})


def date_parse(value, *, field: str, label: str) -> dt.date:
    """A date from a date, "2019-07-01", "2019/7/1", "2019.7.1" or "2019年7月1日"."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise _refuse(f"请填写{label}（YYYY-MM-DD）。", field=field, code="missing_date")
    match = _DATE_RE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _refuse(f"{label}“{text[:30]}”不是有效日期，应为 YYYY-MM-DD。", field=field, code="invalid_date") from None


def terms_text_parse(text: str) -> list[dict]:
    """Terms typed in one cell or text box: "2019-07-01~2020-06-30;2020-07-01~2023-06-30" (ranges
    separated by ; ； or new lines; within a range the two dates by ~ ～ 至 or —)."""
    terms = []
    for chunk in (c.strip() for c in re.split(r"[;；\n\r]+", text or "")):
        if not chunk:
            continue
        dates = [m.group(0) for m in _DATE_RE.finditer(chunk)]
        if len(dates) != 2:
            raise _refuse(
                f"第 {len(terms) + 1} 个聘期“{chunk[:40]}”应写成“开始日期~结束日期”，如 2019-07-01~2020-06-30。",
                field="terms", code="invalid_terms",
            )
        terms.append({"start": dates[0], "end": dates[1]})
    return terms


@dataclass(frozen=True)
class TermPlan:
    """One term of a contract entered with its history."""

    term_no: int
    kind: str
    start: dt.date
    end: dt.date
    years: int
    paper_contract_number: str = ""
    signed_on: dt.date | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("start", "end", "signed_on"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _whole_years(start: dt.date, end: dt.date) -> int | None:
    return next((n for n in range(1, 11) if services.term_end(start, n) == end), None)


def _years_text(low: int, high: int) -> str:
    return f"{low} 年" if low == high else f"{low} 至 {high} 年"


def contract_number_clean(value, *, field: str = "contract_number") -> str:
    """The paper contract's number: required, at most CONTRACT_NUMBER_MAX characters, and not
    something that looks like an ID or mobile number (documents never carry those)."""
    from rpms.documents.integrity import personal_identifier_findings

    number = str(value if value is not None else "").strip()
    if not number:
        raise _refuse("请填写纸质聘用合同的编号。", field=field, code="contract_number_required")
    if len(number) > CONTRACT_NUMBER_MAX or any(ord(ch) < 32 for ch in number):
        raise _refuse(f"纸质合同编号不能超过 {CONTRACT_NUMBER_MAX} 个字符，且不能含换行等控制字符。", field=field,
                      code="invalid_contract_number")
    if personal_identifier_findings({"number": number}):
        raise _refuse("纸质合同编号看起来像身份证号或手机号；文书不记载个人信息，请填写合同上的编号。", field=field,
                      code="invalid_contract_number")
    return number


def _signed_on_check(signed_on, *, term: TermPlan, today: dt.date, field: str, label: str) -> dt.date:
    signed_on = date_parse(signed_on, field=field, label=label)
    if signed_on > today:
        raise _refuse(f"{label}（{signed_on}）不能晚于今天（{today}）。", field=field, code="signed_on_in_future")
    if signed_on > term.end:
        raise _refuse(f"{label}（{signed_on}）晚于该聘期结束日期（{term.end}），请核对。", field=field,
                      code="signed_on_after_term")
    if signed_on < term.start - dt.timedelta(days=SIGNED_BEFORE_TERM_DAYS):
        raise _refuse(f"{label}（{signed_on}）早于该聘期开始日期（{term.start}）一年以上，请核对。", field=field,
                      code="signed_on_too_early")
    return signed_on


def terms_plan(*, city, start, terms=None, today: dt.date | None = None) -> list[TermPlan]:
    """The terms of a running contract, checked against the city's policy (see the module docstring
    for how strictly). Raises DomainError (400) with a Chinese message and `details.field`."""
    policy = city.policy
    today = today or clock.today()
    article = policy_article(city, "renewal")
    start = date_parse(start, field="start", label="聘期开始日期")
    if start > today:
        raise _refuse(f"补录的既有聘任应已开始：聘期开始日期（{start}）不能晚于今天（{today}）；尚未开始的聘任请按正常程序办理聘任。",
                      field="start", code="existing_not_started")
    if start < EARLIEST_START:
        raise _refuse(f"聘期开始日期（{start}）早于 {EARLIEST_START}，请核对。", field="start", code="start_too_early")
    first_years = policy.first_term_years
    low, high = policy.renewal_years_min, policy.renewal_years_max
    if terms in (None, "", []):
        terms = [{"start": start, "end": services.term_end(start, first_years)}]
    if isinstance(terms, str):
        terms = terms_text_parse(terms)
    if not isinstance(terms, (list, tuple)) or not terms:
        raise _refuse('聘期（terms）应为列表，依次列出首聘和各次续聘：[{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}, …]。',
                      field="terms", code="invalid_terms")
    if len(terms) > MAX_TERMS:
        raise _refuse(f"聘期不能超过 {MAX_TERMS} 个。", field="terms", code="invalid_terms")
    plan: list[TermPlan] = []
    for number, item in enumerate(terms, start=1):
        if not isinstance(item, dict):
            raise _refuse(f"第 {number} 个聘期应写成 {{\"start\": …, \"end\": …}}。", field="terms", code="invalid_terms")
        kind = TermKind.FIRST if number == 1 else TermKind.RENEWAL
        label = f"第 {number} 个聘期（{kind.label}）"
        term_start = date_parse(item.get("start"), field="terms", label=f"{label}的开始日期")
        term_end = date_parse(item.get("end"), field="terms", label=f"{label}的结束日期")
        if term_end < term_start:
            raise _refuse(f"{label}的结束日期（{term_end}）早于开始日期（{term_start}）。", field="terms",
                          code="term_end_before_start", term=number)
        if number == 1 and term_start != start:
            raise _refuse(f"{label}应从聘期开始日期 {start} 开始，填写的是 {term_start}。", field="terms",
                          code="term_start_mismatch", term=number)
        if plan:
            expected = plan[-1].end + dt.timedelta(days=1)
            if term_start < expected:
                raise _refuse(f"{label}（{term_start} 至 {term_end}）与上一聘期（{plan[-1].start} 至 {plan[-1].end}）重叠；"
                              f"续聘应从 {expected} 开始。", field="terms", code="terms_overlap", term=number)
            if term_start > expected:
                raise _refuse(f"{label}从 {term_start} 开始，与上一聘期（至 {plan[-1].end}）之间有间隔；续聘应从 {expected} 开始，"
                              "聘期之间不能有间隔。", field="terms", code="terms_gap", term=number)
        allowed = [first_years] if number == 1 else list(range(low, high + 1))
        years = _whole_years(term_start, term_end)
        if years not in allowed:
            length = _years_text(first_years, first_years) if number == 1 else _years_text(low, high)
            ends = "、".join(services.term_end(term_start, n).isoformat() for n in allowed)
            raise _refuse(f"{label}应为 {length}（{article}）：自 {term_start} 起应于 {ends} 结束，填写的结束日期为 {term_end}。",
                          field="terms", code="term_length_invalid", term=number, allowed_ends=ends)
        paper_number, signed_on = "", None
        if item.get("contract_number") not in (None, ""):
            paper_number = contract_number_clean(item["contract_number"], field="terms")
        plan.append(TermPlan(number, kind.value, term_start, term_end, years, paper_number))
        if item.get("signed_on") not in (None, ""):
            signed_on = _signed_on_check(item["signed_on"], term=plan[-1], today=today, field="terms",
                                         label=f"{label}的合同签订日期")
            plan[-1] = TermPlan(number, kind.value, term_start, term_end, years, paper_number, signed_on)
    last = plan[-1]
    if last.end < today:
        raise _refuse(
            f"该聘任的最后一个聘期已于 {last.end} 届满，不是正在履行的合同，不能作为在任聘任补录；如已续聘，请把各次续聘的聘期一并填写。",
            field="terms", code="existing_term_over",
        )
    return plan


def paper_check(*, plan: list[TermPlan], contract_number, signed_on, today: dt.date | None = None) -> list[TermPlan]:
    """The current (last) term carries the paper contract's number and signing date."""
    today = today or clock.today()
    number = contract_number_clean(contract_number)
    last = plan[-1]
    signed = _signed_on_check(signed_on, term=last, today=today, field="signed_on", label="合同签订日期")
    return [*plan[:-1], TermPlan(last.term_no, last.kind, last.start, last.end, last.years, number, signed)]


def fee_clean(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        fee = int(str(value).strip().removesuffix("元")) if not isinstance(value, bool) else None
    except ValueError:
        fee = None
    if fee is None or fee < 0:
        raise _refuse("服务费用应为不小于 0 的整数（元）。", field="fee_yuan", code="invalid_fee")
    return fee


def actor_check(actor, unit) -> None:
    """Out of scope (another city, another district in a local-selection city) → NotFound; a role
    that may not enter running contracts → Forbidden."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    city = unit.city
    if not (actor.is_superuser or actor.city_id == city.pk):
        raise NotFound()
    if permissions.can_enter_existing(actor, unit):
        return
    if actor.role == Role.DISTRICT_OFFICER:
        if city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION:
            raise NotFound()  # another district's unit
        raise Forbidden(f"{city.name}由市级主管部门统筹选派责任规划师，既有聘任由市级管理员补录。")
    raise Forbidden("您的角色无权补录既有聘任。")


def rules_check(*, city, planner, unit, role: str, plan: list[TermPlan], spans) -> None:
    """Every rule of an appointment on the real dates. `spans`: (unit id, first day, last day) of the
    planner's other appointments overlapping the plan's dates (`services.planner_spans`), plus, in an
    import, the rows of the same file entered before this one."""
    policy = city.policy
    if unit.city_id != city.pk:
        raise _refuse("责任单元不属于本市。", field="unit", code="unit_not_found", conflict=True)
    if unit.dissolved_at is not None:
        raise _refuse(f"责任单元“{unit.name}”已撤销，不能补录。", field="unit", code="unit_dissolved", conflict=True)
    if not any(item.get("code") == role for item in policy.roles or []):
        labels = "、".join(item["label"] for item in policy.roles or [])
        raise _refuse(f"派驻角色“{role}”不是{city.name}规定的角色（可选：{labels}）。", field="role", code="unknown_role",
                      conflict=True)
    if planner.city_id != city.pk or planner.pool_status != PoolStatus.ACTIVE:
        raise _refuse(
            f"{planner.name}不在{city.name}责任规划师资源库中（既有聘任的责任规划师须为在库人员，可先通过名册导入或定向委托入库）。",
            field="planner", code="planner_not_in_pool", conflict=True,
        )
    if planner.kind == PlannerKind.TEAM and not policy.teams_allowed:
        raise _refuse(f"{city.name}不以团队形式聘任责任规划师。", field="planner", code="teams_not_allowed", conflict=True)
    start, end = plan[0].start, plan[-1].end
    for unit_id, first, last in spans:
        if unit_id == unit.pk and first <= end and last >= start:
            raise _refuse(
                f"{planner.name}在责任单元“{unit.name}”已有 {first} 至 {last} 的聘任记录，与补录的聘期重叠；"
                "同一人员不能在同一责任单元重复派驻。",
                field="unit", code="already_in_unit", conflict=True,
            )
    try:
        services.unit_cap_check(city=city, planner=planner, unit=unit, start=start, end=end, spans=spans)
    except Conflict as exc:
        raise _refuse(exc.message, field="planner", code=exc.code, conflict=True, **(exc.details or {})) from None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@transaction.atomic
def appointment_existing_enter(*, actor, planner, unit, role, start, contract_number, signed_on, terms=None,
                               fee_yuan=None, fee_note="", service_focus="", note="", origin=None) -> Appointment:
    """Enters a running contract with its history (module docstring): refused with 400 for a wrong
    date, term or paper detail, 409 for a broken rule (pool, unit, role, same unit, B19(2) cap), 404
    out of scope, 403 for a role that may not. `terms`: [{"start", "end", "contract_number"?,
    "signed_on"?}] — the first term, then each renewal — or their text form; `contract_number` and
    `signed_on` are the current term's paper contract. `origin` (e.g. {"import": id, "row": n}) is
    recorded with the act."""
    unit = services._load_unit(getattr(unit, "pk", unit))
    city = unit.city
    actor_check(actor, unit)
    today = clock.today()
    role = (role or "").strip() or ((city.policy.roles or [{}])[0].get("code") or "")
    plan = paper_check(plan=terms_plan(city=city, start=start, terms=terms, today=today),
                       contract_number=contract_number, signed_on=signed_on, today=today)
    fee = fee_clean(fee_yuan)
    # B19(2): the cap must hold under concurrency — every appointment of a planner serialises on its row.
    planner = planner_lock(planner)
    if planner is None:
        raise NotFound("责任规划师不存在。", code="planner_not_found", details={"field": "planner"})
    first, current = plan[0], plan[-1]
    services._settle(planner, unit)
    rules_check(city=city, planner=planner, unit=unit, role=role, plan=plan,
                spans=services.planner_spans(planner, start=first.start, end=current.end))

    appointment = Appointment(
        city=city, unit=unit, planner=planner, role=role, start=first.start, end=current.end,
        status=AppointmentStatus.ACTIVE, term_no=current.term_no, party_a=services.party_a_for(unit)[:300],
        fee_yuan=fee, fee_note=(fee_note or "").strip()[:500], service_focus=(service_focus or "").strip(),
        source=SOURCE, note=(note or "").strip(), created_by=actor,
    )
    full_clean_or_refuse(appointment, validate_constraints=False)
    appointment.save()

    # The current term's certificate and contract, as records of the paper originals (no dispatch notice).
    appointment._current_term = (current.start, current.end)
    contexts = services.appointment_documents_context(appointment, years=current.years)
    paper = {"contract_number": current.paper_contract_number, "signed_on": current.signed_on.isoformat()}
    certificate_context = {**contexts[services.KIND_CERTIFICATE], "paper_original": paper}
    contract_context = {**contexts[services.KIND_CONTRACT], "paper_original": paper, "signed_on": paper["signed_on"]}
    role_label = appointment.role_label
    certificate = services._issue(actor=actor, appointment=appointment, kind=services.KIND_CERTIFICATE,
                                  title=f"{role_label}聘任证书", context=certificate_context)
    contract_title = (f"{role_label}聘用合同" if current.term_no == 1
                      else f"{role_label}续聘合同（第 {current.term_no} 聘期）")
    contract = services._issue(actor=actor, appointment=appointment, kind=services.KIND_CONTRACT,
                               title=contract_title, context=contract_context)

    AppointmentTerm.objects.bulk_create([
        _term_row(appointment, term, contract_number=contract.number if term is current else "", actor=actor)
        for term in plan
    ])
    hooks.rows_written_in_bulk(AppointmentTerm, city_id=appointment.city_id)
    article_appointment = policy_article(city, "appointment")
    article_renewal = policy_article(city, "renewal")
    where = f"{unit.district.name}{unit.name}"
    for term in plan:
        paper_note = f"，纸质合同编号 {term.paper_contract_number}" if term.paper_contract_number else ""
        if term.kind == TermKind.FIRST:
            dossier_event_record(
                planner=planner, kind=DossierEventKind.APPOINTED, article=article_appointment, actor=actor,
                source=appointment, occurred_at=_day_start(term.start),
                summary=f"派驻{where}任{role_label}，聘期 {term.start} 至 {term.end}（既有聘任补录{paper_note}）",
                data={"unit": unit.pk, "role": role, "start": term.start.isoformat(), "end": term.end.isoformat(),
                      "existing": True, "paper_contract_number": term.paper_contract_number},
            )
        else:
            dossier_event_record(
                planner=planner, kind=DossierEventKind.RENEWED, article=article_renewal, actor=actor,
                source=appointment, occurred_at=_day_start(term.start),
                summary=f"续聘{where}{role_label} {term.years} 年，{term.start} 至 {term.end}（既有聘任补录{paper_note}）",
                data={"years": term.years, "start": term.start.isoformat(), "end": term.end.isoformat(),
                      "existing": True, "paper_contract_number": term.paper_contract_number},
            )
    audit_log(
        actor=actor, action="appointments.appointment_existing_enter", obj=appointment,
        after={**snapshot(appointment), "terms": [t.as_json() for t in plan], "paper_original": paper,
               "documents": [certificate.number, contract.number], **({"origin": origin} if origin else {})},
        article=policy_article(city, STEP),
        summary=(f"补录既有聘任：{planner.name} · {where}{role_label}，{first.start} 起，"
                 f"共 {len(plan)} 个聘期，纸质合同 {current.paper_contract_number}")[:255],
    )
    appointment._issued = (certificate, contract)
    return appointment


def _term_row(appointment, term: TermPlan, *, contract_number: str, actor) -> AppointmentTerm:
    row = AppointmentTerm(
        appointment=appointment, term_no=term.term_no, kind=term.kind, start=term.start, end=term.end,
        years=term.years, contract_number=contract_number, paper_contract_number=term.paper_contract_number,
        signed_on=term.signed_on, created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    row.full_clean(exclude=["appointment"])
    return row
