"""Reads for cities and their policy; the deadline helpers other contexts use for policy windows."""
from datetime import date

from rpms.core.errors import NotFound

from .articles import policy_article  # noqa: F401  (read here by the other apps)
from .models import City, PolicyProfile
from .services import POLICY_FIELDS, policy_values


def city_list():
    return City.objects.filter(is_active=True).select_related("policy")


def city_get(code: str) -> City:
    city = City.objects.select_related("policy").filter(code=code, is_active=True).first()
    if city is None or not hasattr(city, "policy"):
        raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
    return city


def policy_document(city: City) -> dict:
    """The policy profile as JSON (the API's /cities/{code}/policy)."""
    profile: PolicyProfile = city.policy
    data = {"city": city.code, "city_name": city.name, "version": profile.version, "updated_at": profile.updated_at.isoformat()}
    data.update(policy_values(profile))
    return data


def contract_clause_texts(city: City, values: dict) -> list[dict]:
    """Every clause of the city's contract (policy `contract_clauses`, B19(3) / P6(3)) with its wording
    filled from `values` (keys: rpms.cities.schemas.CLAUSE_PLACEHOLDERS). A value not given reads
    "（按双方约定）"; a clause without wording gets a sentence saying what it must state."""
    import string

    class _Values(dict):
        def __missing__(self, key):
            return "（按双方约定）"

    filled = _Values({k: ("（按双方约定）" if v in (None, "") else str(v)) for k, v in values.items()})
    clauses = []
    for clause in city.policy.contract_clauses or []:
        text = clause.get("text") or ""
        if text:
            text = string.Formatter().vformat(text, (), filled)
        else:
            text = f"双方就{clause['label']}约定如下：（按双方约定）"
        clauses.append({"code": clause["code"], "label": clause["label"], "article": clause.get("article", ""), "text": text})
    return clauses


WINDOW_RULES = {
    "notice_working_days": "公示期",
    "withdrawal_notice_working_days": "退出申请提前期",
    "suggestion_response_working_days": "意见建议答复时限",
}


def policy_window_end(*, city: City, rule: str, start: date):
    """The end of a working-day window set by the city's policy (e.g. P5(2) notice period),
    computed by rpms.workdays with its explanation."""
    from rpms.workdays.selectors import add_working_days

    if rule not in WINDOW_RULES or rule not in POLICY_FIELDS:
        raise ValueError(f"not a working-day window rule: {rule}")
    return add_working_days(start, getattr(city.policy, rule))
