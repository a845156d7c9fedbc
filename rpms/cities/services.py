"""Writes for cities and their policy profiles."""
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from rpms.accounts.models import Role
from rpms.core.audit import audit_log
from rpms.core.errors import DomainError, Forbidden

from .models import City, PolicyProfile

CITY_FIELDS = ["name", "division_code", "rulebook_title", "article_prefix", "bureau_name", "scope_note", "sort_order"]
POLICY_LIST_FIELDS = [
    "grades", "removal_grounds", "duty_categories", "zone_types", "specialties", "registrations",
    "eligibility_rules", "contract_clauses", "assessment_criteria", "roles", "violation_kinds", "articles",
    "limit_strictness",
]
POLICY_SCALAR_FIELDS = [
    "notice_working_days", "withdrawal_notice_working_days", "first_term_years", "renewal_years_min",
    "renewal_years_max", "max_units_per_planner", "max_core_team_members", "allowance_yuan_per_person_year",
    "allowance_partial_cycle", "pool_requires_notice", "teams_allowed", "contract_signer", "appointment_mode",
    "suggestion_response_working_days", "contract_expiry_warning_days", "contract_notice_clause_allowed",
    "contract_filer", "district_work_teams", "renewal_requires_review", "suggestions_premoderated",
    "review_window_days", "review_input_working_days", "contract_filing_days", "assessment_due_reminder_days",
    "matching_weight_specialty", "matching_weight_familiarity", "matching_weight_experience", "matching_weight_grade",
    "honour_title",
]
POLICY_FIELDS = POLICY_SCALAR_FIELDS + POLICY_LIST_FIELDS


def policy_values(profile: PolicyProfile) -> dict:
    return {name: getattr(profile, name) for name in POLICY_FIELDS}


def _validation_to_domain(exc: ValidationError, prefix: str = "") -> DomainError:
    if hasattr(exc, "message_dict"):
        details = {k: v for k, v in exc.message_dict.items()}
        label = {f: PolicyProfile._meta.get_field(f).verbose_name for f in POLICY_FIELDS}
        text = "；".join(f"{label.get(k, k)}：{'，'.join(v)}" for k, v in details.items())
    else:
        details, text = {"__all__": exc.messages}, "；".join(exc.messages)
    return DomainError(f"{prefix}{text}", code="invalid_policy", details=details)


def _apply_policy(profile: PolicyProfile, values: dict) -> None:
    unknown = sorted(set(values) - set(POLICY_FIELDS))
    if unknown:
        raise DomainError(f"政策配置中有未知的项目：{'、'.join(unknown)}", code="unknown_policy_key", details={"unknown": unknown})
    for name, value in values.items():
        setattr(profile, name, value)
    try:
        profile.full_clean(exclude=["city"])
    except ValidationError as exc:
        raise _validation_to_domain(exc, "政策配置有误：") from exc


@transaction.atomic
def city_configure(*, actor, data: dict) -> City:
    """Creates or updates a city and its policy profile from a configuration document
    (see data/cities/README.md). This is how a third city is added: by data, not code."""
    city_data = data.get("city") or {}
    code = city_data.get("code")
    if not code:
        raise DomainError("城市配置缺少城市代码 city.code。", code="invalid_city")
    city = City.objects.filter(code=code).first()
    created = city is None
    before = None
    if created:
        city = City(code=code)
    else:
        before = {"city": {f: getattr(city, f) for f in CITY_FIELDS}, "policy": policy_values(city.policy) if hasattr(city, "policy") else None}
    for name in CITY_FIELDS:
        if name in city_data:
            setattr(city, name, city_data[name])
    try:
        city.full_clean()
    except ValidationError as exc:
        raise DomainError("城市信息有误：" + "；".join(exc.messages), code="invalid_city") from exc
    city.save()  # inside the transaction: rolled back if the policy below is refused
    profile = PolicyProfile.objects.filter(city=city).first() or PolicyProfile(city=city)
    policy_data = data.get("policy") or {}
    if profile.pk is None:
        missing = [f for f in ("contract_signer", "appointment_mode") if f not in policy_data]
        if missing:
            raise DomainError(f"政策配置缺少必填项：{'、'.join(missing)}", code="invalid_policy")
    policy_changed = profile.pk is None or any(
        getattr(profile, k) != v for k, v in policy_data.items() if k in POLICY_FIELDS
    )
    _apply_policy(profile, policy_data)
    if not created and not policy_changed and before["city"] == {f: getattr(city, f) for f in CITY_FIELDS}:
        return city  # loading the same document again changes nothing and writes no audit row
    if policy_changed and profile.pk is not None:
        profile.version += 1
    profile.save()
    after = {"city": {f: getattr(city, f) for f in CITY_FIELDS}, "policy": policy_values(profile)}
    audit_log(
        actor=actor,
        action="cities.city_configure",
        obj=city,
        before=before,
        after=after,
        summary=f"{'新增' if created else '更新'}城市配置：{city.name}",
    )
    return city


def city_configure_from_file(*, actor, path: Path) -> City:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DomainError(f"无法读取城市配置文件 {path}：{exc}", code="invalid_city_file") from exc
    return city_configure(actor=actor, data=data)


def _require_city_admin(actor, city: City):
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden("请先登录。")
    if actor.is_superuser:
        return
    if actor.role != Role.CITY_ADMIN or actor.city_id != city.pk:
        raise Forbidden("只有本市的市级管理员可以修改政策配置。")


@transaction.atomic
def policy_update(*, actor, city: City, changes: dict) -> PolicyProfile:
    """A city administrator edits the rules as data; every change is validated and audited."""
    _require_city_admin(actor, city)
    profile = PolicyProfile.objects.select_for_update().get(city=city)
    before = policy_values(profile)
    _apply_policy(profile, changes)
    after = policy_values(profile)
    diff_keys = [k for k in POLICY_FIELDS if before[k] != after[k]]
    if not diff_keys:
        raise DomainError("没有需要保存的修改。", code="no_change")
    profile.version += 1
    profile.save()
    audit_log(
        actor=actor,
        action="cities.policy_update",
        obj=profile,
        city_code=city.code,
        before={k: before[k] for k in diff_keys},
        after={k: after[k] for k in diff_keys},
        summary=f"修改{city.name}政策配置（v{profile.version}）：{'、'.join(str(PolicyProfile._meta.get_field(k).verbose_name) for k in diff_keys)}"[:255],
    )
    return profile
