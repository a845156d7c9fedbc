"""A planner keeps their own record current (issue #17 item 8).

What the city's eligibility rules read (B18 for Beijing, P4 for Pingdingshan: title, registrations, degree and
its field, years of experience — which of them is read from the rules themselves, `eligibility_fields`) does not
change at once: the planner asks, with proof (a PDF or image checked by rpms.core.uploads and stored privately),
and the city administrator verifies (`profile_change_approve` applies it; `profile_change_reject` with a reason
leaves the record as it was; the planner hears of both through the inbox). What the rules do not read — mobile
(SM4-encrypted at rest), e-mail, employer, bio, specialties, districts known — applies at once.

Every act writes one dossier row (个人档案, P5(2)) and one audit row citing its article: the eligibility rules'
article for a verified change, the pool's upkeep (`pool_update`: B19(6), P5(3)) for a direct one."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide
from rpms.cities.articles import policy_article
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock, hooks
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.masking import mask_mobile

from .dossier import dossier_event_record
from .models import DossierEventKind, Planner, ProfileChange, ProfileChangeStatus
from .selectors import can_manage_pool, pending_change_count  # noqa: F401  (re-exported)

PROOF_FOLDER = "profile_changes"
NOTE_MAX = 2000
BIO_MAX = 2000
REASON_MAX = 2000

# Every field a planner keeps current, in the order of the form, with its label.
FIELD_LABELS: dict[str, str] = {
    "mobile": "手机号码",
    "email": "电子邮箱",
    "employer": "工作单位",
    "bio": "个人简介",
    "specialties": "擅长专业领域",
    "districts": "熟悉的区",
    "degree": "学历",
    "major": "所学专业",
    "major_field": "所学专业所属领域",
    "title_level": "职称等级",
    "title_field": "职称专业领域",
    "registrations": "执业资格",
    "experience_years": "相关工作年限",
}
LIST_FIELDS = ("specialties", "districts", "registrations")
# The eligibility rules' conditions (rpms.cities.schemas.RuleNode) → the record's fields they read.
_CONDITION_FIELDS = {
    "degree_min": ("degree", "major"),
    "degree_fields": ("major_field", "major"),
    "title_level_min": ("title_level",),
    "title_fields": ("title_field",),
    "registrations_any": ("registrations",),
    "experience_years_min": ("experience_years",),
}


def eligibility_fields(policy) -> set[str]:
    """The record's fields the city's eligibility rules read (rules as data): changing one needs verification."""
    found: set[str] = set()

    def walk(node):
        for key, fields in _CONDITION_FIELDS.items():
            if node.get(key) is not None:
                found.update(fields)
        for child in node.get("all_of") or node.get("any_of") or []:
            walk(child)

    for rule in (policy.eligibility_rules or {}).get("rules", []):
        walk(rule)
    return found


def eligibility_article(city) -> str:
    return str((city.policy.eligibility_rules or {}).get("article", ""))


def current_values(planner: Planner) -> dict:
    """The record's current value of every field of FIELD_LABELS (districts as codes)."""
    values = {name: getattr(planner, name) for name in FIELD_LABELS if name != "districts"}
    values["districts"] = sorted(d.code for d in planner.familiar_districts.all())
    values["specialties"] = list(planner.specialties or [])
    values["registrations"] = list(planner.registrations or [])
    return values


def _text(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if len(value) > limit:
        raise DomainError(f"{FIELD_LABELS[name]}不能超过 {limit} 个字。", code="invalid_field")
    return value


def _codes(value, label: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise DomainError(f"{label}格式不正确。", code="invalid_field")
    return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def profile_clean(*, city, data: dict) -> dict:
    """The fields present in `data`, checked against the city's lists; a refusal names the field in Chinese."""
    from rpms.core.identity import validate_mobile
    from rpms.geography.models import District

    from .services import specialties_check

    policy = city.policy
    cleaned: dict = {}
    unknown = [k for k in data if k not in FIELD_LABELS]
    if unknown:
        raise DomainError(f"不能修改的项目：{'、'.join(unknown)}。", code="invalid_field")
    if "mobile" in data:
        mobile = str(data.get("mobile") or "").strip()
        cleaned["mobile"] = validate_mobile(mobile) if mobile else ""
    if "email" in data:
        from rpms.accounts.services import email_clean

        cleaned["email"] = email_clean(str(data.get("email") or ""))
    if "employer" in data:
        cleaned["employer"] = _text(data, "employer", 200)
    if "bio" in data:
        cleaned["bio"] = _text(data, "bio", BIO_MAX)
    if "major" in data:
        cleaned["major"] = _text(data, "major", 100)
    if "specialties" in data:
        cleaned["specialties"] = specialties_check(city=city, codes=_codes(data["specialties"], "擅长专业领域"))
    if "districts" in data:
        codes = _codes(data["districts"], "熟悉的区")
        known = set(District.objects.filter(city=city, code__in=codes).values_list("code", flat=True))
        if len(known) != len(codes):
            raise DomainError("熟悉的区须为本市的区。", code="invalid_district")
        cleaned["districts"] = sorted(codes)
    if "degree" in data:
        degree = str(data.get("degree") or DegreeLevel.NONE)
        if degree not in DegreeLevel.values:
            raise DomainError("学历不在可选范围内。", code="invalid_field")
        cleaned["degree"] = degree
    if "title_level" in data:
        title = str(data.get("title_level") or TitleLevel.NONE)
        if title not in TitleLevel.values:
            raise DomainError("职称等级不在可选范围内。", code="invalid_field")
        cleaned["title_level"] = title
    for name, label in (("major_field", "所学专业所属领域"), ("title_field", "职称专业领域")):
        if name in data:
            code = str(data.get(name) or "").strip()
            if code:
                specialties_check(city=city, codes=[code], label=label)
            cleaned[name] = code
    if "registrations" in data:
        codes = _codes(data["registrations"], "执业资格")
        known = {r["code"] for r in policy.registrations}
        wrong = [c for c in codes if c not in known]
        if wrong:
            raise DomainError(f"未知的执业资格：{'、'.join(wrong)}", code="unknown_registration")
        cleaned["registrations"] = codes
    if "experience_years" in data:
        raw = str(data.get("experience_years") if data.get("experience_years") is not None else "").strip() or "0"
        try:
            years = int(raw)
        except ValueError:
            raise DomainError("相关工作年限应为整数。", code="invalid_field") from None
        if not 0 <= years <= 80:
            raise DomainError("相关工作年限应在 0 到 80 年之间。", code="invalid_field")
        cleaned["experience_years"] = years
    return cleaned


def value_label(city, name: str, value) -> str:
    """A field's value as a person reads it (labels for codes; the mobile masked)."""
    policy = city.policy
    if name == "mobile":
        return mask_mobile(value) if value else "（未填）"
    if name == "degree":
        return DegreeLevel(value).label if value in DegreeLevel.values else str(value)
    if name == "title_level":
        return TitleLevel(value).label if value in TitleLevel.values else str(value)
    if name in ("major_field", "title_field", "specialties"):
        codes = value if isinstance(value, list) else ([value] if value else [])
        return "、".join(policy.specialty_label(c) for c in codes) or "（未填）"
    if name == "registrations":
        labels = {r["code"]: r["label"] for r in policy.registrations}
        return "、".join(labels.get(c, c) for c in value or []) or "无"
    if name == "districts":
        from rpms.geography.models import District

        names = dict(District.objects.filter(city=city, code__in=list(value or [])).values_list("code", "name"))
        return "、".join(names.get(c, c) for c in value or []) or "（未填）"
    if name == "experience_years":
        return f"{value} 年"
    return str(value) if value not in (None, "") else "（未填）"


def changes_described(city, changes: dict, before: dict | None = None) -> list[dict]:
    """[{"field", "label", "before", "after"}] in the form's order, values as a person reads them."""
    rows = []
    for name in FIELD_LABELS:
        if name in changes:
            rows.append({"field": name, "label": FIELD_LABELS[name],
                         "before": value_label(city, name, (before or {}).get(name)) if before is not None else "",
                         "after": value_label(city, name, changes[name])})
    return rows


def _audit_values(values: dict) -> dict:
    """Values for an audit row: the mobile masked (the record keeps it encrypted; the trail need not hold it)."""
    return {k: (mask_mobile(v) if k == "mobile" and v else v) for k, v in values.items()}


def _apply(planner: Planner, values: dict) -> None:
    from rpms.geography.models import District

    from .services import full_clean_or_refuse

    for name, value in values.items():
        if name != "districts":
            setattr(planner, name, value)
    full_clean_or_refuse(planner)
    planner.save()
    if "districts" in values:
        planner.familiar_districts.set(District.objects.filter(city=planner.city, code__in=values["districts"]))


def _own_record(actor, planner: Planner) -> Planner:
    """The planner's own record, locked; anyone else's is invisible (404)."""
    if not getattr(actor, "is_authenticated", False) or planner.user_id != actor.pk:
        raise NotFound("未找到该责任规划师档案。")
    return Planner.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=planner.pk)


@dataclass
class ProfileUpdate:
    """What became of a submission: the fields applied at once, and the request waiting for verification."""

    planner: Planner
    applied: list[str] = field(default_factory=list)
    change: ProfileChange | None = None


def _summary(city, rows: list[dict]) -> str:
    return "；".join(f"{r['label']}：{r['before']} → {r['after']}" for r in rows)


@transaction.atomic
def profile_update(*, actor, planner: Planner, data: dict, proof=None, note: str = "") -> ProfileUpdate:
    """The planner's own change of their record. Fields the eligibility rules read are held as one request for
    verification (proof required, one request waiting at a time); the others apply at once. Nothing changed:
    400 `no_change`. Another's record: 404."""
    from rpms.core.uploads import clean_original_name, proof_delete, proof_store

    planner = _own_record(actor, planner)
    city = planner.city
    cleaned = profile_clean(city=city, data=data)
    before = current_values(planner)
    changed = {k: v for k, v in cleaned.items() if v != before.get(k)}
    if not changed:
        raise DomainError("没有需要变更的内容。", code="no_change")
    held_fields = eligibility_fields(city.policy)
    held = {k: v for k, v in changed.items() if k in held_fields}
    direct = {k: v for k, v in changed.items() if k not in held_fields}
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"变更说明不能超过 {NOTE_MAX} 个字。", code="invalid_field")
    result = ProfileUpdate(planner=planner)
    if held:
        labels = "、".join(FIELD_LABELS[k] for k in FIELD_LABELS if k in held)
        if ProfileChange.objects.filter(planner=planner, status=ProfileChangeStatus.PENDING).exists():
            raise Conflict(f"您已有一项资格信息变更申请待核实，{labels}暂不能再次申请变更，请等待市级主管部门核实。",
                           code="change_pending")
        if proof is None:
            raise DomainError(f"{labels}关系到选聘条件（{eligibility_article(city)}），变更须上传证明材料（PDF、JPG 或 PNG），"
                              "由市级主管部门核实后生效。", code="proof_required")
    if direct:
        rows = changes_described(city, direct, before)
        _apply(planner, direct)
        article = policy_article(city, "pool_update")
        dossier_event_record(planner=planner, kind=DossierEventKind.PROFILE_UPDATED, article=article, actor=actor,
                             summary=f"本人更新个人信息：{_summary(city, rows)}",
                             data={"fields": sorted(direct)})
        audit_log(actor=actor, action="registry.profile_update", obj=planner,
                  before=_audit_values({k: before[k] for k in direct}), after=_audit_values(direct), article=article,
                  summary=f"{planner.name} 更新个人信息（{'、'.join(r['label'] for r in rows)}）"[:255])
        result.applied = sorted(direct)
    if held:
        stored = proof_store(proof, folder=PROOF_FOLDER)
        try:
            result.change = _request_create(actor=actor, planner=planner, held=held, before=before, note=note,
                                            stored=stored, name=clean_original_name(getattr(proof, "name", ""), stored.kind))
        except BaseException:
            proof_delete(stored.path)
            raise
    return result


def _request_create(*, actor, planner, held, before, note, stored, name) -> ProfileChange:
    city = planner.city
    article = eligibility_article(city)
    change = ProfileChange(
        city=city, planner=planner, changes=held, before={k: before.get(k) for k in held}, note=note, article=article,
        proof_path=stored.path, proof_name=name[:255], proof_kind=stored.kind, proof_size=stored.size,
        proof_sha256=stored.sha256, requested_by=actor, requested_at=clock.now(),
    )
    change.full_clean(exclude=["city", "planner", "requested_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError:  # a concurrent request of the same planner won the race
        raise Conflict("您已有一项资格信息变更申请待核实，请等待市级主管部门核实。", code="change_pending") from None
    rows = changes_described(city, held, before)
    dossier_event_record(planner=planner, kind=DossierEventKind.PROFILE_CHANGE_REQUESTED, article=article, actor=actor,
                         summary=f"申请变更资格信息（待市级主管部门核实）：{_summary(city, rows)}", source=change,
                         data={"fields": sorted(held)})
    audit_log(actor=actor, action="registry.profile_change_request", obj=change, object_repr=f"{planner.name}：资格信息变更申请",
              after={"changes": held, "before": change.before, "proof": stored.sha256, "note": note}, article=article,
              summary=f"{planner.name} 申请变更资格信息（{'、'.join(r['label'] for r in rows)}）"[:255], city_code=city.code)
    return change


def _decider(actor, change: ProfileChange) -> None:
    """Only the city administrator of the request's city verifies; another city's: 404."""
    if not getattr(actor, "is_authenticated", False) or not (actor.is_superuser or actor.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级主管部门可以核实资格信息变更。")
    if not can_manage_pool(actor, change.city):
        raise NotFound()


def _lock_change(change: ProfileChange) -> ProfileChange:
    return (ProfileChange.objects.select_for_update(of=("self",)).select_related("city__policy", "planner", "planner__user")
            .get(pk=change.pk))


def _inform(change: ProfileChange, *, title: str, body: str) -> None:
    from django.urls import reverse

    user = change.planner.user
    if user is None:
        return
    hooks.run(hooks.NOTIFY, users=[user], event="registry.profile_change_decided", title=title, body=body,
              url=reverse("registry:profile_edit"), key=f"registry.profile_change:{change.pk}:{change.status}",
              city=change.city)


@transaction.atomic
def profile_change_approve(*, actor, change: ProfileChange, note: str = "") -> ProfileChange:
    """The city administrator has verified the proof: the change applies to the record."""
    _decider(actor, change)
    change = _lock_change(change)
    if change.status != ProfileChangeStatus.PENDING:
        raise Conflict(f"该申请已{change.get_status_display()}，不能再次核实。", code="already_decided")
    note = (note or "").strip()[:REASON_MAX]
    planner = Planner.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=change.planner_id)
    before = current_values(planner)
    values = profile_clean(city=planner.city, data=change.changes)  # the city's lists may have changed meanwhile
    change.move_to(ProfileChangeStatus.APPROVED)
    change.decided_by, change.decided_at, change.decision_note = actor, clock.now(), note
    change.full_clean(exclude=["city", "planner", "requested_by", "decided_by"], validate_constraints=False)
    change.save()
    _apply(planner, values)
    rows = changes_described(planner.city, values, before)
    dossier_event_record(planner=planner, kind=DossierEventKind.PROFILE_CHANGE_APPROVED, article=change.article, actor=actor,
                         summary=f"资格信息变更经核实生效：{_summary(planner.city, rows)}" + (f"。核实意见：{note}" if note else ""),
                         source=change, data={"fields": sorted(values)})
    audit_log(actor=actor, action="registry.profile_change_approve", obj=change,
              object_repr=f"{planner.name}：资格信息变更申请", before={k: before.get(k) for k in values}, after=values,
              article=change.article, summary=f"核准 {planner.name} 的资格信息变更（{'、'.join(r['label'] for r in rows)}）"[:255],
              city_code=planner.city.code)
    _inform(change, title="您的资格信息变更已核准",
            body=f"{'；'.join(r['label'] + '：' + r['after'] for r in rows)}。已记入个人档案。")
    return change


@transaction.atomic
def profile_change_reject(*, actor, change: ProfileChange, reason: str) -> ProfileChange:
    """The city administrator does not accept the change (a reason is required): the record stays as it was."""
    _decider(actor, change)
    change = _lock_change(change)
    if change.status != ProfileChangeStatus.PENDING:
        raise Conflict(f"该申请已{change.get_status_display()}，不能再次核实。", code="already_decided")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写不予核准的理由。", code="reason_required")
    if len(reason) > REASON_MAX:
        raise DomainError(f"理由不能超过 {REASON_MAX} 个字。", code="invalid_field")
    change.move_to(ProfileChangeStatus.REJECTED)
    change.decided_by, change.decided_at, change.decision_note = actor, clock.now(), reason
    change.full_clean(exclude=["city", "planner", "requested_by", "decided_by"], validate_constraints=False)
    change.save()
    planner = change.planner
    labels = "、".join(FIELD_LABELS[k] for k in FIELD_LABELS if k in change.changes)
    dossier_event_record(planner=planner, kind=DossierEventKind.PROFILE_CHANGE_REJECTED, article=change.article, actor=actor,
                         summary=f"资格信息变更（{labels}）未获核准，档案信息不变。理由：{reason}", source=change,
                         data={"fields": sorted(change.changes), "reason": reason})
    audit_log(actor=actor, action="registry.profile_change_reject", obj=change,
              object_repr=f"{planner.name}：资格信息变更申请", after={"status": change.status, "reason": reason},
              article=change.article, summary=f"不予核准 {planner.name} 的资格信息变更（{labels}）"[:255],
              city_code=planner.city.code)
    _inform(change, title="您的资格信息变更未获核准", body=f"申请变更的{labels}未获核准，档案信息不变。理由：{reason}")
    return change


# --- reads ------------------------------------------------------------------------------------------------


def profile_change_queryset(*, user, status: str = ""):
    """The requests `user` may see: the city's administrators and auditors the city's (a superuser every city's),
    a planner their own. Anyone else: 403."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。")
    queryset = ProfileChange.objects.select_related("city__policy", "planner", "requested_by", "decided_by")
    if status:
        if status not in ProfileChangeStatus.values:
            choices = "、".join(f"{v}（{label}）" for v, label in ProfileChangeStatus.choices)
            raise DomainError(f"状态“{status}”无效（可选：{choices}）。", code="invalid_status")
        queryset = queryset.filter(status=status)
    if user.is_superuser:
        return queryset
    if user.role == Role.AUDITOR and not user.city_id:
        return queryset  # an auditor of every city (rpms.accounts.scoping.is_city_wide)
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        if not user.city_id:
            return queryset.none()
        return queryset.filter(city_id=user.city_id)
    if user.role == Role.PLANNER:
        return queryset.filter(planner__user=user)
    raise Forbidden("您的角色无权查看资格信息变更申请。")


def profile_change_list(*, user, status: str = ""):
    """Oldest first (the queue: the longest-waiting on top)."""
    return profile_change_queryset(user=user, status=status).order_by("requested_at", "id")


def profile_change_get(*, user, pk) -> ProfileChange:
    try:
        found = profile_change_queryset(user=user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound()
    if user.role in (Role.CITY_ADMIN, Role.AUDITOR) and not user.is_superuser and not is_city_wide(user, found.city):
        raise NotFound()
    return found


def eligibility_after(change: ProfileChange):
    """The eligibility check (B18, P4) on the record's facts as they would be with the change applied."""
    from rpms.cities.eligibility import eligibility_check

    planner = change.planner
    facts = current_values(planner)
    facts.update(change.changes if change.status == ProfileChangeStatus.PENDING else {})
    return eligibility_check(policy=change.city.policy, facts={
        "degree": facts["degree"], "degree_field": facts["major_field"], "title_level": facts["title_level"],
        "title_field": facts["title_field"], "registrations": facts["registrations"],
        "experience_years": facts["experience_years"],
        # Declarations were made at admission and are not re-asked here.
        "declarations": _declared(change.city.policy),
    })


def _declared(policy) -> list[str]:
    from rpms.cities.eligibility import declaration_rules

    return [d["code"] for d in declaration_rules(policy)]


def profile_change_json(change: ProfileChange) -> dict:
    city = change.city
    return {
        "id": change.pk,
        "planner": {"id": change.planner_id, "name": change.planner.name},
        "city": city.code,
        "status": change.status,
        "status_label": change.get_status_display(),
        "article": change.article,
        "changes": change.changes,
        "before": change.before,
        "rows": changes_described(city, change.changes, change.before),
        "note": change.note,
        "proof": {"name": change.proof_name, "kind": change.proof_kind, "size": change.proof_size},
        "requested_by": str(change.requested_by) if change.requested_by_id else "",
        "requested_at": change.requested_at.isoformat(),
        "decided_by": str(change.decided_by) if change.decided_by_id else "",
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
        "decision_note": change.decision_note,
    }


def profile_json(planner: Planner) -> dict:
    """The planner's own record as they keep it current (full values: it is theirs), with what is held."""
    city = planner.city
    values = current_values(planner)
    pending = ProfileChange.objects.filter(planner=planner, status=ProfileChangeStatus.PENDING).first()
    return {
        "id": planner.pk,
        "name": planner.name,
        "kind": planner.kind,
        "city": city.code,
        **values,
        "verified_fields": sorted(eligibility_fields(city.policy)),
        "eligibility_article": eligibility_article(city),
        "pending_change": profile_change_json(pending) if pending else None,
    }


def my_planner(user) -> Planner:
    """The record linked to the user's account, or 404 in Chinese."""
    planner = (Planner.objects.select_related("city__policy").prefetch_related("familiar_districts")
               .filter(user_id=getattr(user, "pk", None)).first()) if getattr(user, "is_authenticated", False) else None
    if planner is None:
        raise NotFound("您的账户尚未关联责任规划师档案。入库后可在此维护个人信息。")
    return planner

