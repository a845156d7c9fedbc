"""Recruitment writes, one audited service per act:

- call_create / call_publish / call_withdraw — 公开征集 P5(1), 定向补充 P5(3)
- application_submit — an application with the eligibility snapshot (B18, P4; team leader B18,
  core-member cap B19(7)); proof_add — an uploaded proof
- application_review — 审核遴选 with scores and a reason the applicant sees (P5(1))
- notice_publish — 公示, end = start + N working days, N ≥ the policy's notice_working_days (P5(2));
  a start before today records a notice published elsewhere and needs its address or scan
- notices_recompute_for_year — a year's schedule entered: unclosed notices touching it recomputed
- objection_submit / objection_resolve — objections in the window; upheld cancels the candidate
- notice_close — admission into the pool, the dossier opened with every step (P5(2))
"""
from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from rpms.accounts.scoping import is_city_wide
from rpms.cities.eligibility import code_list as _code_list
from rpms.cities.eligibility import eligibility_check, facts_from_data
from rpms.cities.selectors import policy_article
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.crypto import blind_index
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.geography.models import District
from rpms.registry.models import DossierEventKind, Planner, PlannerKind, PlannerSource, PoolStatus, TeamMember
from rpms.registry.services import dossier_event_record, full_clean_or_refuse, specialties_check, team_members_clean

from .models import (
    SCORE_KEYS,
    SCORE_MAX,
    Application,
    ApplicationKind,
    ApplicationStatus,
    CallKind,
    CallStatus,
    NoticeEntry,
    NoticeRecomputation,
    Objection,
    ObjectionResolution,
    OpenCall,
    Proof,
    PublicNotice,
)
from .selectors import require_city_admin

# Each step cites the city's own article: policy `articles` (rpms.cities.articles).
MAX_PROOFS = 20
MAX_EXPERIENCE_YEARS = 70
MAX_TEXT = 2000

_PHONE_RE = re.compile(r"(\+?86[\s\-]?)?(1[3-9]\d{9}|0\d{2,3}[\s\-]?\d{7,8}([\s\-]?\d{1,6})?)")


def _now():
    return clock.now()


def _text(value, *, label: str, max_length: int, required: bool = False, code: str = "invalid_field") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code=code)
    if len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字符。", code=code)
    return text


# --- calls ------------------------------------------------------------------------------------------


def _call_fields(*, city, title, kind, requirements, specialties, deadline) -> dict:
    title = _text(title, label="征集标题", max_length=200, required=True)
    if kind not in CallKind.values:
        raise DomainError("征集类型应为 open（公开征集）或 targeted（定向补充）。", code="invalid_kind")
    specialties = specialties_check(city=city, codes=_code_list(specialties, label="需求专业领域"), label="需求专业领域")
    if kind == CallKind.TARGETED and not specialties:
        # P5(3): a targeted call names the specialties in short supply.
        raise DomainError(f"定向补充须列明紧缺的专业领域（{policy_article(city, 'call_targeted')}）。",
                          code="specialties_required")
    if not isinstance(deadline, dt.date) or isinstance(deadline, dt.datetime):
        raise DomainError("报名截止日期格式不正确，应为 YYYY-MM-DD。", code="invalid_date")
    return {
        "title": title,
        "kind": kind,
        "requirements": _text(requirements, label="征集要求", max_length=10000),
        "specialties": specialties,
        "deadline": deadline,
    }


@transaction.atomic
def call_create(*, actor, city, title: str, kind: str = CallKind.OPEN, requirements: str = "", specialties=(),
                deadline: dt.date, publish: bool = True) -> OpenCall:
    """A city administrator records a call (公开征集 P5(1) / 定向补充 P5(3)); published at once
    unless `publish` is false (then call_publish later)."""
    require_city_admin(actor, city)
    fields = _call_fields(city=city, title=title, kind=kind, requirements=requirements, specialties=specialties,
                          deadline=deadline)
    if publish and fields["deadline"] < clock.today():
        raise DomainError("报名截止日期不能早于今天。", code="deadline_in_past")
    call = OpenCall(city=city, created_by=actor if getattr(actor, "is_authenticated", False) else None, **fields)
    if publish:
        call.move_to(CallStatus.PUBLISHED)
        call.published_at = _now()
    full_clean_or_refuse(call)
    call.save()
    audit_log(
        actor=actor, action="recruitment.call_create", obj=call, after=snapshot(call),
        article=call.article, summary=f"{'发布' if publish else '起草'}{call.get_kind_display()}：{call.title}"[:255],
    )
    return call


@transaction.atomic
def call_publish(*, actor, call: OpenCall) -> OpenCall:
    call = OpenCall.objects.select_for_update().get(pk=call.pk)
    require_city_admin(actor, call.city_id)
    if call.status != CallStatus.DRAFT:
        raise Conflict(f"该征集当前为“{call.get_status_display()}”，不能发布。", code="call_not_draft")
    if call.deadline < clock.today():
        raise DomainError("报名截止日期已过，请先修改截止日期。", code="deadline_in_past")
    before = snapshot(call, fields=["status", "published_at"])
    call.move_to(CallStatus.PUBLISHED)
    call.published_at = _now()
    full_clean_or_refuse(call)
    call.save(update_fields=["status", "published_at", "updated_at"])
    audit_log(actor=actor, action="recruitment.call_publish", obj=call, before=before,
              after=snapshot(call, fields=["status", "published_at"]), article=call.article,
              summary=f"发布{call.get_kind_display()}：{call.title}"[:255])
    return call


@transaction.atomic
def call_withdraw(*, actor, call: OpenCall, reason: str) -> OpenCall:
    call = OpenCall.objects.select_for_update().get(pk=call.pk)
    require_city_admin(actor, call.city_id)
    if call.status == CallStatus.WITHDRAWN:
        raise Conflict("该征集已撤回。", code="call_withdrawn")
    reason = _text(reason, label="撤回理由", max_length=500, required=True)
    if call.applications.exclude(status=ApplicationStatus.DRAFT).exists():
        raise Conflict("已有人报名的征集不能撤回。", code="call_has_applications")
    before = snapshot(call, fields=["status"])
    call.move_to(CallStatus.WITHDRAWN)
    call.save(update_fields=["status", "updated_at"])
    audit_log(actor=actor, action="recruitment.call_withdraw", obj=call, before=before, after={"status": call.status,
              "reason": reason}, article=call.article, summary=f"撤回征集：{call.title}"[:255])
    return call


# --- applications -----------------------------------------------------------------------------------


def declaration_rules(policy) -> list[dict]:
    """The policy's applicant declarations (rules checked by the applicant's statement), in order."""
    from rpms.cities.eligibility import declaration_rules as rules

    return rules(policy)


def _int(value, *, label: str, low: int, high: int) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(f"{label}应为整数。", code="invalid_field") from None
    if not low <= number <= high:
        raise DomainError(f"{label}应在 {low} 到 {high} 之间。", code="invalid_field")
    return number


def eligibility_preview(*, call: OpenCall, data: dict):
    """The eligibility of the facts in `data` under the call's city rules; nothing is saved."""
    return eligibility_check(policy=call.city.policy, facts=facts_from_data(data))


def application_data_clean(*, call: OpenCall, data: dict) -> tuple[dict, list, list[dict]]:
    """(model fields, familiar districts, team members) from raw data, or DomainError in Chinese."""
    from rpms.core.identity import validate_id_number, validate_mobile

    city = call.city
    policy = city.policy
    kind = str(data.get("kind") or ApplicationKind.INDIVIDUAL)
    if kind not in ApplicationKind.values:
        raise DomainError("申请类型应为 individual（个人）或 team（团队）。", code="invalid_kind")
    if kind == ApplicationKind.TEAM and not policy.teams_allowed:
        raise DomainError(f"{city.name}不接受团队申请，请以个人名义申请。", code="teams_not_allowed")
    fields = {
        "kind": kind,
        "team_name": _text(data.get("team_name"), label="团队名称", max_length=100, required=kind == ApplicationKind.TEAM),
        "name": _text(data.get("name"), label="姓名（团队为负责人姓名）", max_length=100, required=True),
        "id_number": validate_id_number(data.get("id_number")),
        "mobile": validate_mobile(data.get("mobile")),
        "employer": _text(data.get("employer"), label="工作单位", max_length=200),
        "major": _text(data.get("major"), label="所学专业", max_length=100),
    }
    email = _text(data.get("email"), label="电子邮箱", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("电子邮箱格式不正确。", code="invalid_email") from None
    fields["email"] = email
    degree = str(data.get("degree") or DegreeLevel.NONE)
    if degree not in DegreeLevel.values:
        raise DomainError("学历不在可选范围内。", code="invalid_field")
    title_level = str(data.get("title_level") or TitleLevel.NONE)
    if title_level not in TitleLevel.values:
        raise DomainError("职称等级不在可选范围内。", code="invalid_field")
    fields["degree"], fields["title_level"] = degree, title_level
    for key, label in (("degree_field", "所学专业所属领域"), ("title_field", "职称专业领域")):
        value = str(data.get(key) or "").strip()
        if value:
            specialties_check(city=city, codes=[value], label=label)
        fields[key] = value
    registrations = _code_list(data.get("registrations"), label="执业资格")
    known_registrations = {r["code"] for r in policy.registrations}
    unknown = [r for r in registrations if r not in known_registrations]
    if unknown:
        raise DomainError(f"未知的执业资格：{'、'.join(unknown)}", code="unknown_registration")
    fields["registrations"] = registrations
    fields["experience_years"] = _int(data.get("experience_years"), label="相关工作年限", low=0, high=MAX_EXPERIENCE_YEARS)
    specialties = specialties_check(city=city, codes=_code_list(data.get("specialties"), label="擅长专业领域"),
                                    label="擅长专业领域")
    if not specialties:
        raise DomainError("请至少选择一个擅长的专业领域。", code="specialties_required")
    fields["specialties"] = specialties
    declarations = _code_list(data.get("declarations"), label="申请人声明")
    allowed = {d["code"] for d in declaration_rules(policy)}
    unknown = [d for d in declarations if d not in allowed]
    if unknown:
        raise DomainError(f"未知的声明事项：{'、'.join(unknown)}", code="invalid_declaration")
    fields["declarations"] = declarations
    codes = _code_list(data.get("districts"), label="熟悉的区")
    districts = list(District.objects.filter(city=city, code__in=codes))
    if len(districts) != len(codes):
        missing = sorted(set(codes) - {d.code for d in districts})
        raise DomainError(f"熟悉的区须为{city.name}的区，以下代码无效：{'、'.join(missing)}", code="invalid_district")
    members = []
    if kind == ApplicationKind.TEAM:
        raw_members = data.get("members") or []
        if not isinstance(raw_members, (list, tuple)):
            raise DomainError("团队成员格式不正确。", code="invalid_member")
        members = team_members_clean(city=city, members=raw_members)  # B19(7) cap
        if not members:
            raise DomainError("团队申请须列出团队成员。", code="members_required")
    return fields, districts, members


def _prior_planner_check(*, city, actor, id_number: str):
    """The applicant's record already in the city's registry, if any (recruitment.selectors.prior_planner).
    Someone in the pool does not apply again; a record of the account under another ID number, or an
    ID number on another account's record, contradicts the registry and is refused."""
    from .selectors import prior_planner

    prior = prior_planner(city=city, user=actor, id_number=id_number)
    if prior is None:
        return None
    if prior.user_id == actor.pk and prior.id_number and prior.id_number != id_number:
        raise Conflict("身份证号码与您在资源库档案中登记的不一致。如档案有误，请联系市级管理员更正。",
                       code="identity_mismatch")
    if prior.user_id not in (None, actor.pk):
        raise Conflict("该身份证号码已登记在另一账户名下的责任规划师档案中，请使用该账户申请，或联系市级管理员。",
                       code="identity_taken")
    if prior.pool_status == PoolStatus.ACTIVE:
        raise Conflict(f"您已在{city.name}资源库中（档案：{prior.name}），无需再次申请；资料如有变化，请联系市级管理员更新档案。"
                       if prior.user_id == actor.pk else
                       f"该身份证号码对应的责任规划师已在{city.name}资源库中。", code="already_in_pool")
    return prior


# What a re-application is compared on: (application field, dossier field, label, how shown).
CHANGE_FIELDS = (
    ("name", "name", "姓名/团队名称", "text"),
    ("employer", "employer", "工作单位", "text"),
    ("degree", "degree", "学历", "degree"),
    ("major", "major", "所学专业", "text"),
    ("degree_field", "major_field", "所学专业所属领域", "specialty"),
    ("title_level", "title_level", "职称等级", "title"),
    ("title_field", "title_field", "职称专业领域", "specialty"),
    ("registrations", "registrations", "执业资格", "registrations"),
    ("experience_years", "experience_years", "相关工作年限", "years"),
    ("specialties", "specialties", "擅长专业领域", "specialties"),
    ("districts", "familiar_districts", "熟悉的区", "districts"),
)


def _change_display(kind: str, value, policy) -> str:
    if kind == "degree":
        return DegreeLevel(value).label if value in DegreeLevel.values else str(value or "")
    if kind == "title":
        return TitleLevel(value).label if value in TitleLevel.values else str(value or "")
    if kind == "specialty":
        return policy.specialty_label(value) if value else "无"
    if kind == "years":
        return f"{value} 年"
    if kind == "registrations":
        labels = {r["code"]: r["label"] for r in policy.registrations}
        return "、".join(labels.get(c, c) for c in value) or "无"
    if kind == "specialties":
        return "、".join(policy.specialty_label(c) for c in value) or "无"
    if kind == "districts":
        return "、".join(name for _, name in value) or "无"
    return str(value or "") or "无"


def application_changes(*, prior, fields: dict, districts) -> list[dict]:
    """What an application states differently from the applicant's registry record, field by field:
    {"field", "label", "before", "after", "before_value", "after_value"} (before/after as shown)."""
    policy = prior.city.policy
    is_team = fields.get("kind") == ApplicationKind.TEAM
    stated = dict(fields)
    stated["name"] = fields.get("team_name") if is_team else fields.get("name")
    stated["districts"] = sorted((d.code, d.name) for d in districts)
    changes = []
    for key, dossier_key, label, kind in CHANGE_FIELDS:
        after = stated.get(key)
        if dossier_key == "familiar_districts":
            before = sorted((d.code, d.name) for d in prior.familiar_districts.all())
        else:
            before = getattr(prior, dossier_key)
        if kind in ("registrations", "specialties"):
            same = sorted(before or []) == sorted(after or [])
        else:
            same = (before or "") == (after or "") if kind != "years" else before == after
        if same:
            continue
        changes.append({
            "field": key, "label": label,
            "before": _change_display(kind, before, policy), "after": _change_display(kind, after, policy),
            "before_value": [c for c, _ in before] if kind == "districts" else before,
            "after_value": [c for c, _ in after] if kind == "districts" else after,
        })
    return changes


@transaction.atomic
def application_submit(*, actor, call: OpenCall, data: dict) -> Application:
    """An applicant's application to a call, submitted with its eligibility snapshot (B18 / P4:
    the applicant's or, for a team, the leader's facts). An ineligible application is accepted and
    marked so; the reviewers see why rule by rule."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录后再提交申请。", code="login_required")
    call = OpenCall.objects.select_related("city__policy").get(pk=call.pk)
    today = clock.today()
    if not call.is_published:
        raise Conflict("该征集未发布或已撤回，不接受报名。", code="call_not_open")
    if today > call.deadline:
        raise Conflict(f"报名已于 {call.deadline:%Y-%m-%d} 截止。", code="call_closed")
    fields, districts, members = application_data_clean(call=call, data=data)
    if Application.objects.filter(call=call, applicant=actor).exists():
        raise Conflict("您已提交过本次征集的申请，不能重复申请。", code="already_applied")
    if Application.objects.filter(call=call, id_number_index=blind_index(fields["id_number"], kind="id_number")).exists():
        raise Conflict("该身份证号码已用于本次征集的另一份申请。", code="duplicate_id_number")
    prior = _prior_planner_check(city=call.city, actor=actor, id_number=fields["id_number"])
    changes = application_changes(prior=prior, fields=fields, districts=districts) if prior is not None else []
    result = eligibility_check(policy=call.city.policy, facts={
        "degree": fields["degree"], "degree_field": fields["degree_field"], "title_level": fields["title_level"],
        "title_field": fields["title_field"], "registrations": fields["registrations"],
        "experience_years": fields["experience_years"], "declarations": fields["declarations"],
    })
    now = _now()
    application = Application(
        call=call, applicant=actor, status=ApplicationStatus.SUBMITTED, submitted_at=now,
        eligibility=result.as_dict(), eligible=result.eligible, prior_planner=prior, changes=changes, **fields,
    )
    full_clean_or_refuse(application, validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # a concurrent duplicate slipped past the checks above
        raise Conflict("您已提交过本次征集的申请，不能重复申请。", code="already_applied") from None
    application.familiar_districts.set(districts)
    for index, member in enumerate(members):
        TeamMember.objects.create(application=application, sort_order=index, **member)
    audit_log(
        actor=actor, action="recruitment.application_submit", obj=application,
        after={"call": call.pk, "kind": application.kind, "name": application.display_name, "eligible": result.eligible,
               "failed_rules": [o.code for o in result.failed()], "members": len(members),
               "prior_planner": prior.pk if prior else None,
               "changes": [{"field": c["field"], "before": c["before"], "after": c["after"]} for c in changes]},
        article=result.article,
        summary=(f"{application.display_name} {'再次' if prior else ''}申请入库（{'符合' if result.eligible else '不符合'}选聘条件"
                 + (f"，与原档案相比 {len(changes)} 项变化" if prior else "") + "）")[:255],
    )
    return application


@transaction.atomic
def proof_add(*, actor, application: Application, file, label: str = "") -> Proof:
    """The applicant adds a proof (PDF/JPEG/PNG, type checked by content) while the application
    awaits review. The file is stored outside the web root."""
    from rpms.core.uploads import proof_delete, proof_store

    application = Application.objects.select_for_update(of=("self",)).select_related("call__city").get(pk=application.pk)
    if application.applicant_id != getattr(actor, "pk", None):
        if not is_city_wide(actor, application.call.city):
            raise NotFound()  # someone else's application: not revealed
        raise Forbidden("只有申请人本人可以上传证明材料。")
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED):
        raise Conflict("申请已审核，不能再上传材料。", code="application_decided")
    if application.proofs.count() >= MAX_PROOFS:
        raise DomainError(f"每份申请最多上传 {MAX_PROOFS} 份证明材料。", code="too_many_proofs")
    label = _text(label, label="材料名称", max_length=100)
    stored = proof_store(file, folder="applications")
    try:
        proof = Proof(application=application, label=label, path=stored.path, original_name=stored.original_name,
                      kind=stored.kind, size=stored.size, sha256=stored.sha256)
        proof.full_clean()
        proof.save()
        audit_log(actor=actor, action="recruitment.proof_add", obj=proof, object_repr=f"{application.display_name}：{proof.original_name}",
                  after={"application": application.pk, "kind": proof.kind, "size": proof.size, "sha256": proof.sha256},
                  summary=f"{application.display_name} 上传证明材料 {proof.original_name}"[:255],
                  city_code=application.call.city.code)
    except BaseException:
        proof_delete(stored.path)
        raise
    return proof


def _scores_clean(scores, *, required: bool) -> dict:
    if scores in (None, ""):
        scores = {}
    if not isinstance(scores, dict):
        raise DomainError("评分格式不正确。", code="invalid_scores")
    unknown = [k for k in scores if k not in SCORE_KEYS]
    if unknown:
        raise DomainError(f"未知的评分项：{'、'.join(map(str, unknown))}（可选：{'、'.join(SCORE_KEYS)}）。", code="invalid_scores")
    cleaned = {}
    for key, label in SCORE_KEYS.items():
        value = scores.get(key)
        if value in (None, ""):
            if required:
                raise DomainError(f"请为“{label}”评分。", code="scores_required")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DomainError(f"“{label}”评分应为数字。", code="invalid_scores") from None
        if not 0 <= number <= SCORE_MAX:
            raise DomainError(f"“{label}”评分应在 0 到 {SCORE_MAX} 之间。", code="invalid_scores")
        cleaned[key] = int(number) if number == int(number) else number
    return cleaned


@transaction.atomic
def application_review(*, actor, application: Application, decision: str, reason: str = "", scores=None,
                       exception_reason: str = "", _granted=None):
    """审核遴选 (P5(1)): scores on professional background, title, experience and local familiarity,
    and a decision with a reason the applicant sees.

    An ineligible application (B18, P4) is not approved (400 `ineligible`, each failed rule explained) —
    unless the city marks its eligibility rules in principle (B18 "原则上") and the approval carries
    `exception_reason`: the city administrator's approval is then an approved exception
    (rpms.registry.limits), anyone else's a pending request (returned instead of the application). A
    strict rule (P4) refuses even with a reason (409 limit_strict)."""
    from rpms.cities.limits import ELIGIBILITY
    from rpms.registry import limits

    application = Application.objects.select_for_update(of=("self",)).select_related("call__city").get(pk=application.pk)
    require_city_admin(actor, application.call.city)
    if decision not in ("approve", "reject"):
        raise DomainError("审核结论应为 approve（通过）或 reject（不通过）。", code="invalid_decision")
    target = ApplicationStatus.APPROVED if decision == "approve" else ApplicationStatus.REJECTED
    if not application.can_move_to(target):
        raise Conflict(f"该申请当前为“{application.get_status_display()}”，不能再审核。", code="already_decided")
    reason = _text(reason, label="审核意见", max_length=MAX_TEXT, required=decision == "reject")
    scores = _scores_clean(scores, required=decision == "approve")
    city = application.call.city
    waiver = limits.Waiver(
        act=limits.ExceptionAct.APPLICATION_APPROVE, subject=limits.ExceptionSubject.APPLICATION,
        reason=exception_reason, granted=_granted, source=application,
        payload={"application": application.pk, "decision": decision, "reason": reason, "scores": scores},
    )
    if decision == "approve" and not application.eligible:
        eligibility = application.eligibility or {}
        article = eligibility.get("article", "")
        failures = [f"{rule.get('label', '')}（{rule.get('article', '')}）：{rule.get('detail', '')}"
                    for rule in eligibility.get("rules", []) if not rule.get("passed")]
        refusal = DomainError(f"该申请不符合选聘条件（{article}），不能审核通过：" + "；".join(failures) + "。",
                              code="ineligible", details={"eligibility": eligibility})
        try:
            limits.limit_exceeded(actor=actor, city=city, limit=ELIGIBILITY, refusal=refusal, waiver=waiver,
                                  subject_label=f"{application.display_name}（《{application.call.title}》）",
                                  shortfall=failures, planner=application.prior_planner)
        except limits.ExceptionRequested as requested:
            return requested.exception
    before = snapshot(application, fields=["status", "scores", "decision_reason", "decided_at"])
    application.move_to(target)
    application.scores = scores
    application.decision_reason = reason or "经审核，符合入库条件。"
    application.decided_at = _now()
    application.decided_by = actor
    full_clean_or_refuse(application, validate_constraints=False)
    application.save(update_fields=["status", "scores", "decision_reason", "decided_at", "decided_by", "updated_at"])
    # The planner is known only at admission (notice_close): the exception joins the dossier then.
    used = limits.exceptions_performed(waiver=waiver, result=application)
    audit_log(
        actor=actor, action="recruitment.application_review", obj=application, before=before,
        after={**snapshot(application, fields=["status", "scores", "decision_reason", "decided_at"]),
               **({"limit_exceptions": [e.pk for e in used]} if used else {})},
        article="、".join(dict.fromkeys(part for text in [policy_article(city, "review"), *[e.article for e in used]]
                                        for part in (text or "").split("、") if part)),
        summary=(f"审核{'通过' if target == ApplicationStatus.APPROVED else '未通过'}：{application.display_name}"
                 + ("（不符合选聘条件，经批准例外）" if used else ""))[:255],
    )
    return application


def perform_limit_exception(*, exception):
    """hooks.LIMIT_EXCEPTION_PERFORM handler: an approved exception to the in-principle eligibility rules
    (B18) performs the approval of the application that waited, through application_review."""
    from rpms.registry.models import ExceptionAct

    if exception.act != ExceptionAct.APPLICATION_APPROVE:
        return None
    payload = exception.payload or {}
    application = Application.objects.filter(pk=payload.get("application")).first()
    if application is None:
        raise Conflict("该申请已不存在。", code="application_missing")
    return application_review(actor=exception.requested_by, application=application, decision="approve",
                              reason=payload.get("reason", ""), scores=payload.get("scores"), _granted=exception)


# --- notices ----------------------------------------------------------------------------------------


def _working_days_clean(value, *, city) -> int:
    """The notice period asked for: the policy's minimum (P5(2) / the city's article) when not given;
    fewer is refused; more is allowed (up to the calculator's bound)."""
    from rpms.workdays.selectors import MAX_DAYS

    minimum = city.policy.notice_working_days
    if value in (None, ""):
        return minimum
    if isinstance(value, bool):
        raise DomainError("公示期工作日数应为整数。", code="invalid_working_days")
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("公示期工作日数应为整数。", code="invalid_working_days") from None
    if days < minimum:
        raise DomainError(
            f"公示期不能少于{city.name}规定的 {minimum} 个工作日（{policy_article(city, 'notice')}），"
            f"可以更长。", code="notice_too_short",
        )
    if days > MAX_DAYS:
        raise DomainError(f"公示期不能超过 {MAX_DAYS} 个工作日。", code="notice_too_long")
    return days


def _evidence_url_clean(value) -> str:
    url = str(value or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise DomainError("原公示网址不能超过 500 个字符。", code="invalid_evidence_url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError("原公示网址格式不正确，应为以 http:// 或 https:// 开头的网址。",
                          code="invalid_evidence_url") from None
    return url


@transaction.atomic
def notice_publish(*, actor, call: OpenCall, start: dt.date | None = None, title: str = "", working_days=None,
                   evidence_url: str = "", evidence_file=None) -> PublicNotice:
    """公示 (P5(2)) of every approved application of the call not yet on a notice. Its end is the
    start plus `working_days` working days (workdays' rule, explanation kept): the policy's
    notice_working_days when not given; fewer is refused, more allowed.

    A start before today is the record (补录) of a notice published elsewhere: it needs the original
    publication's address (`evidence_url`, http/https) or its scan (`evidence_file`, PDF/JPEG/PNG
    stored privately); without either it is refused. A start of today or later needs neither."""
    from rpms.workdays.selectors import add_working_days

    call = OpenCall.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=call.pk)
    require_city_admin(actor, call.city)
    if not call.is_published:
        raise Conflict("该征集未发布，不能公示。", code="call_not_open")
    today = clock.today()
    start = start or today
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise DomainError("公示开始日期格式不正确，应为 YYYY-MM-DD。", code="invalid_date")
    if start > today + dt.timedelta(days=90):
        raise DomainError("公示开始日期不能晚于 90 天之后。", code="start_too_late")
    if start.year < 2000:
        raise DomainError("公示开始日期不正确。", code="invalid_date")
    days = _working_days_clean(working_days, city=call.city)
    evidence_url = _evidence_url_clean(evidence_url)
    backdated = start < today
    if backdated and not evidence_url and evidence_file is None:
        raise DomainError(
            f"开始日期 {start:%Y-%m-%d} 早于今天：这是对已在别处发布的公示的补录，"
            "须提供原公示的网址（以 http:// 或 https:// 开头）或上传原公示的扫描件（PDF、JPEG 或 PNG）。",
            code="evidence_required",
        )
    candidates = list(
        Application.objects.select_for_update(of=("self",))
        .filter(call=call, status=ApplicationStatus.APPROVED, notice_entry__isnull=True)
        .order_by("submitted_at", "id")
    )
    if not candidates:
        raise Conflict("没有待公示的审核通过人选。", code="no_candidates")
    window = add_working_days(start, days)
    now = _now()
    notice = PublicNotice(
        call=call, city=call.city, title=_text(title, label="公示标题", max_length=200) or f"{call.title}拟入库人员公示",
        start=start, end=window.end, working_days=window.days, explanation=list(window.explanation),
        provisional=window.provisional, backdated=backdated, evidence_url=evidence_url, published_at=now,
        published_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    stored = None
    if evidence_file is not None:
        from rpms.core.uploads import proof_store

        stored = proof_store(evidence_file, folder="notices")
        notice.evidence_path, notice.evidence_name, notice.evidence_kind = stored.path, stored.original_name, stored.kind
        notice.evidence_size, notice.evidence_sha256 = stored.size, stored.sha256
    try:
        full_clean_or_refuse(notice)
        notice.save()
        for application in candidates:
            NoticeEntry.objects.create(notice=notice, application=application)
            application.move_to(ApplicationStatus.ON_NOTICE)
            application.noticed_at = now
            application.save(update_fields=["status", "noticed_at", "updated_at"])
        minimum = call.city.policy.notice_working_days
        audit_log(
            actor=actor, action="recruitment.notice_publish", obj=notice,
            after={"call": call.pk, "start": start, "end": notice.end, "working_days": notice.working_days,
                   "minimum_working_days": minimum, "backdated": notice.backdated, "evidence_url": evidence_url,
                   "evidence_scan": {"name": notice.evidence_name, "sha256": notice.evidence_sha256} if stored else None,
                   "candidates": [a.pk for a in candidates]},
            article=policy_article(call.city, "notice"),
            summary=(f"发布入库公示（{start:%Y-%m-%d} 至 {notice.end:%Y-%m-%d}，{notice.working_days} 个工作日"
                     + (f"，长于规定的 {minimum} 个工作日" if notice.working_days > minimum else "")
                     + f"，{len(candidates)} 人）" + ("，补录已在别处发布的公示" if notice.backdated else ""))[:255],
        )
    except BaseException:
        if stored is not None:
            from rpms.core.uploads import proof_delete

            proof_delete(stored.path)
        raise
    return notice


def _notice_recompute(*, actor, notice: PublicNotice, year: int, reason: str, now) -> NoticeRecomputation | None:
    """The notice's end under the calendar as it now stands, never below the policy's minimum and
    never earlier than the end already published (the public was promised that day)."""
    from rpms.workdays.selectors import add_working_days, count_working_days

    days = max(notice.working_days, notice.city.policy.notice_working_days)
    window = add_working_days(notice.start, days)
    end, explanation = window.end, list(window.explanation)
    if window.end < notice.end:
        # The new schedule has more working days in the published window (a make-up working day):
        # the published end stands and the period counts the working days it now holds.
        window = add_working_days(notice.start, count_working_days(notice.start, notice.end)[0])
        end, explanation = max(window.end, notice.end), list(window.explanation)
        if end != window.end:
            explanation.append(f"已公布的截止日期 {notice.end:%Y-%m-%d} 不提前，公示期至该日结束时届满。")
    before = {"end": notice.end, "working_days": notice.working_days, "provisional": notice.provisional}
    if (end, window.days, window.provisional, explanation) == (
        notice.end, notice.working_days, notice.provisional, list(notice.explanation)
    ):
        return None
    recomputation = None
    if (end, window.days) != (notice.end, notice.working_days):
        recomputation = NoticeRecomputation(
            notice=notice, year=year, reason=reason[:300], old_end=notice.end, new_end=end,
            old_working_days=notice.working_days, new_working_days=window.days, old_provisional=notice.provisional,
            recomputed_at=now, recomputed_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    notice.end, notice.working_days = end, window.days
    notice.provisional, notice.explanation = window.provisional, explanation
    full_clean_or_refuse(notice)
    notice.save(update_fields=["end", "working_days", "provisional", "explanation", "updated_at"])
    if recomputation is not None:
        recomputation.full_clean(exclude=["notice", "recomputed_by"])
        recomputation.save()
    audit_log(
        actor=actor, action="recruitment.notice_recompute", obj=notice, before=before,
        after={"end": notice.end, "working_days": notice.working_days, "provisional": notice.provisional,
               "year": year, "reason": reason},
        article=policy_article(notice.city, "notice"),
        summary=(f"因{reason}重新计算公示期：" + (recomputation.describe if recomputation else
                                                   f"截止日期 {notice.end:%Y-%m-%d} 不变，不再为暂定"))[:255],
        city_code=notice.city.code,
    )
    return recomputation


@transaction.atomic
def notices_recompute_for_year(*, actor, year: int, reason: str):
    """Listener of rpms.workdays.hooks: a year's holiday schedule was entered, replaced or removed.
    Every notice not yet closed whose window touches that year gets its end recomputed (never below
    the minimum, never earlier than published); each change is recorded on the notice, audited, and
    the city's administrators are told in their inbox. Returns the effects for the page."""
    from django.urls import reverse

    from rpms.workdays.hooks import ScheduleEffect

    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    notices = list(
        PublicNotice.objects.select_for_update(of=("self",)).select_related("city__policy")
        .filter(closed_at__isnull=True, start__lte=last, end__gte=first).order_by("start", "id")
    )
    now = _now()
    effects = []
    for notice in notices:
        recomputation = _notice_recompute(actor=actor, notice=notice, year=year, reason=reason, now=now)
        if recomputation is None:
            continue
        url = reverse("recruitment:manage_notice", kwargs={"pk": notice.pk})
        effects.append(ScheduleEffect(title=f"《{notice.title}》公示期重新计算", detail=recomputation.describe, url=url))
        _tell_city_admins_of_recomputation(notice=notice, recomputation=recomputation, url=url)
    return effects


def _tell_city_admins_of_recomputation(*, notice, recomputation, url) -> None:
    # notifications is a higher layer: imported here, when the act needs it, as other services do.
    from rpms.accounts.models import Role, User
    from rpms.notifications.services import notify

    admins = User.objects.filter(role=Role.CITY_ADMIN, city=notice.city, is_active=True).order_by("pk")
    notify(
        users=admins, event="recruitment.notice_recomputed", city=notice.city, url=url,
        key=f"recruitment.notice_recomputed:{recomputation.pk}",
        title=f"公示期已重新计算：{notice.title}"[:200],
        body=(f"因{recomputation.reason}，《{notice.title}》的公示期按新的节假日安排重新计算："
              f"{recomputation.describe}。公示页面已注明此次重新计算。"),
    )


def _phone_clean(value) -> str:
    phone = _text(value, label="联系电话", max_length=20, required=True, code="invalid_phone")
    if not _PHONE_RE.fullmatch(phone):
        raise DomainError("联系电话格式不正确：请填写手机号码或带区号的固定电话。", code="invalid_phone")
    return phone


@transaction.atomic
def objection_submit(*, notice: PublicNotice, application_id, content: str, contact_name: str, contact_phone: str,
                     actor=None) -> Objection:
    """Anyone may object to a candidate while the notice is open (P5(2)); outside the window the
    objection is refused (409). The contact details are for the bureau only."""
    notice = PublicNotice.objects.select_related("city").get(pk=notice.pk)
    today = clock.today()
    if notice.is_closed:
        raise Conflict("该公示已结束并已办理入库，不再受理异议。", code="notice_closed")
    if today < notice.start:
        raise Conflict(f"公示期自 {notice.start:%Y-%m-%d} 开始，开始前不受理异议。", code="notice_not_started")
    if today > notice.end:
        raise Conflict(f"公示期已于 {notice.end:%Y-%m-%d} 结束，不再受理异议。", code="notice_ended")
    try:
        application_id = int(application_id)
    except (TypeError, ValueError):
        raise DomainError("请选择被反映的公示人选。", code="not_on_notice") from None
    entry = notice.entries.select_related("application").filter(application_id=application_id).first()
    if entry is None:
        raise DomainError("所选人选不在本次公示名单中。", code="not_on_notice")
    if entry.cancelled:
        raise Conflict("该人选已被取消入库资格，无需再提出异议。", code="candidate_cancelled")
    objection = Objection(
        notice=notice, entry=entry,
        content=_text(content, label="反映内容", max_length=MAX_TEXT, required=True, code="content_required"),
        contact_name=_text(contact_name, label="联系人姓名", max_length=50, required=True, code="contact_required"),
        contact_phone=_phone_clean(contact_phone),
        received_at=_now(),
    )
    full_clean_or_refuse(objection)
    objection.save()
    audit_log(
        actor=actor, action="recruitment.objection_submit", obj=objection,
        object_repr=f"对 {entry.application.display_name} 的异议",
        after={"notice": notice.pk, "application": entry.application_id, "received_at": objection.received_at},
        article=policy_article(notice.city, "objection"), summary=f"公示期间收到对 {entry.application.display_name} 的异议"[:255],
        city_code=notice.city.code,
    )
    return objection


@transaction.atomic
def objection_resolve(*, actor, objection: Objection, upheld: bool, finding: str) -> Objection:
    """The bureau's finding on an objection. Upheld: the candidate's admission is cancelled (P5(2)).
    The finding is published on the notice page (without the objector's contact details)."""
    objection = Objection.objects.select_for_update(of=("self",)).select_related("notice__city", "entry__application").get(pk=objection.pk)
    require_city_admin(actor, objection.notice.city)
    if objection.is_resolved:
        raise Conflict("该异议已处理。", code="already_resolved")
    if objection.notice.is_closed:
        raise Conflict("该公示已结束。", code="notice_closed")
    if not isinstance(upheld, bool):
        raise DomainError("请选择异议是否成立。", code="invalid_resolution")
    finding = _text(finding, label="核查结果", max_length=MAX_TEXT, required=True, code="finding_required")
    now = _now()
    objection.resolution = ObjectionResolution.UPHELD if upheld else ObjectionResolution.REJECTED
    objection.finding = finding
    objection.resolved_at = now
    objection.resolved_by = actor
    objection.finding_published_at = now
    full_clean_or_refuse(objection)
    objection.save()
    entry = objection.entry
    application = entry.application
    if upheld and not entry.cancelled:
        entry.cancelled = True
        entry.cancelled_at = now
        entry.save(update_fields=["cancelled", "cancelled_at"])
        application.move_to(ApplicationStatus.CANCELLED)
        application.cancelled_at = now
        application.save(update_fields=["status", "cancelled_at", "updated_at"])
    audit_log(
        actor=actor, action="recruitment.objection_resolve", obj=objection,
        object_repr=f"对 {application.display_name} 的异议",
        before={"resolution": ""},
        after={"resolution": objection.resolution, "finding": finding, "cancelled": entry.cancelled},
        article=policy_article(objection.notice.city, "objection"),
        summary=(f"异议{'成立，取消 ' + application.display_name + ' 入库资格' if upheld else '不成立'}：{application.display_name}")[:255],
        city_code=objection.notice.city.code,
    )
    return objection


def _admit(*, actor, notice: PublicNotice, entry: NoticeEntry, now) -> Planner:
    """Admits one candidate: the planner record (new, or the applicant's existing one in this city)
    and the dossier with every step. Runs inside notice_close's transaction."""
    application = entry.application
    call = notice.call
    city = call.city
    planner = (
        Planner.objects.select_for_update().filter(city=city, user=application.applicant).first()
        or Planner.objects.select_for_update().filter(
            city=city, id_number_index=blind_index(application.id_number, kind="id_number")).first()
    )
    if planner is None:
        planner = Planner(city=city)
        if not Planner.objects.filter(user=application.applicant).exists():
            planner.user = application.applicant
    elif planner.user_id is None and not Planner.objects.filter(user=application.applicant).exists():
        planner.user = application.applicant
    is_team = application.kind == ApplicationKind.TEAM
    planner.kind = PlannerKind.TEAM if is_team else PlannerKind.INDIVIDUAL
    planner.name = application.team_name if is_team else application.name
    planner.leader_name = application.name if is_team else ""
    for field in ("id_number", "mobile", "email", "employer", "degree", "major", "title_level", "title_field",
                  "registrations", "experience_years", "specialties"):
        setattr(planner, field, getattr(application, field))
    planner.major_field = application.degree_field
    planner.move_to(PoolStatus.ACTIVE, field="pool_status")
    planner.source = PlannerSource.APPLICATION
    planner.admitted_at = now
    planner.removed_at = None
    planner.removal_ground = ""
    planner.removal_note = ""
    planner.full_clean()
    planner.save()
    planner.familiar_districts.set(application.familiar_districts.all())
    if is_team:
        planner.members.all().delete()
        for member in application.members.all():
            TeamMember.objects.create(planner=planner, name=member.name, specialty=member.specialty,
                                      is_core=member.is_core, sort_order=member.sort_order)
    eligibility = application.eligibility or {}
    verdict = "符合" if application.eligible else "不符合"
    dossier_event_record(
        planner=planner, kind=DossierEventKind.APPLIED, article=eligibility.get("article", ""),
        occurred_at=application.submitted_at, actor=application.applicant, source=application,
        summary=(f"{'再次' if application.prior_planner_id else ''}报名《{call.title}》（{call.get_kind_display()}，{call.article}），"
                 f"资格审查：{verdict}选聘条件"
                 + ("；与原档案相比的变化：" + "；".join(f"{c['label']} {c['before']} → {c['after']}" for c in application.changes)
                    if application.changes else ""))[:500],
        data={"call": call.pk, "eligible": application.eligible, "changes": application.changes},
    )
    scores = "、".join(f"{SCORE_KEYS[k]} {v}" for k, v in (application.scores or {}).items() if k in SCORE_KEYS)
    dossier_event_record(
        planner=planner, kind=DossierEventKind.REVIEWED, article=policy_article(call.city, "review"), occurred_at=application.decided_at,
        actor=application.decided_by, source=application,
        summary=f"审核遴选通过。{application.decision_reason}" + (f"（评分：{scores}）" if scores else ""),
        data={"scores": application.scores},
    )
    dossier_event_record(
        planner=planner, kind=DossierEventKind.ON_NOTICE, article=policy_article(call.city, "notice"),
        occurred_at=timezone.make_aware(dt.datetime.combine(notice.start, dt.time(9, 0)))
        if notice.backdated else notice.published_at,
        actor=notice.published_by, source=notice,
        summary=f"列入《{notice.title}》，公示期 {notice.start:%Y-%m-%d} 至 {notice.end:%Y-%m-%d}（{notice.working_days} 个工作日）",
        data={"notice": notice.pk, "start": notice.start.isoformat(), "end": notice.end.isoformat()},
    )
    for objection in entry.objections.all():
        dossier_event_record(
            planner=planner, kind=DossierEventKind.OBJECTION, article=policy_article(call.city, "objection"), occurred_at=objection.resolved_at,
            actor=objection.resolved_by, source=objection,
            summary=f"公示期间收到异议，经核查{objection.get_resolution_display()}：{objection.finding}",
            data={"resolution": objection.resolution},
        )
    dossier_event_record(
        planner=planner, kind=DossierEventKind.ADMITTED, article=policy_article(call.city, "admission"), occurred_at=now, actor=actor,
        source=notice,
        summary="公示期满，无异议或异议不成立，正式纳入资源库统一管理；建立个人档案，明确服务职责、工作纪律和管理要求",
    )
    application.move_to(ApplicationStatus.ADMITTED)
    application.admitted_at = now
    application.planner = planner
    application.save(update_fields=["status", "admitted_at", "planner", "updated_at"])
    # B18 "原则上": an exception the approval was made under joins the planner's dossier.
    from rpms.registry.limits import exceptions_attach

    exceptions_attach(source=application, planner=planner)
    return planner


@transaction.atomic
def notice_close(*, actor, notice: PublicNotice) -> list[Planner]:
    """Closes a notice whose period has ended with every objection resolved: each candidate not
    cancelled enters the pool and gets a dossier (P5(2)). Before the end, or with an objection
    unresolved, it is refused (409)."""
    notice = PublicNotice.objects.select_for_update(of=("self",)).select_related("call__city__policy").get(pk=notice.pk)
    require_city_admin(actor, notice.city)
    if notice.is_closed:
        raise Conflict("该公示已办理入库。", code="notice_closed")
    today = clock.today()
    if today <= notice.end:
        raise Conflict(f"公示期至 {notice.end:%Y-%m-%d} 结束，期满后方可办理入库。", code="notice_not_ended")
    unresolved = notice.objections.filter(resolution="").count()
    if unresolved:
        raise Conflict(f"尚有 {unresolved} 条异议未处理，请先核查处理。", code="objections_unresolved")
    now = _now()
    entries = list(
        notice.entries.select_related("application__applicant", "application__decided_by")
        .prefetch_related("objections", "application__members", "application__familiar_districts")
        .order_by("id")
    )
    admitted = [_admit(actor=actor, notice=notice, entry=entry, now=now) for entry in entries if not entry.cancelled]
    notice.closed_at = now
    notice.closed_by = actor
    notice.save(update_fields=["closed_at", "closed_by", "updated_at"])
    audit_log(
        actor=actor, action="recruitment.notice_close", obj=notice,
        before={"closed_at": None},
        after={"closed_at": now, "admitted": [{"planner": p.pk, "name": p.name} for p in admitted],
               "cancelled": [e.application_id for e in entries if e.cancelled]},
        article=policy_article(notice.city, "admission"), summary=f"公示期满，{len(admitted)} 人正式入库：{notice.title}"[:255],
    )
    return admitted
