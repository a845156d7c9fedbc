"""Reads for cities and their policy; the deadline helpers other contexts use for policy windows."""
from datetime import date

from rpms.core.errors import NotFound

from .articles import policy_article  # noqa: F401  (read here by the other apps)
from .models import City, PolicyProfile
from .services import POLICY_FIELDS, policy_values


def policy_scope(city_id) -> str:
    return f"policy:{city_id}"


def policy_for(city_or_id) -> PolicyProfile | None:
    """The city's policy profile, read once and kept in the shared cache until it changes (a saved profile bumps
    its scope: rpms.cities.apps). For pages and lists; the services that apply a rule read it fresh."""
    from rpms.core import pubcache

    city_id = getattr(city_or_id, "pk", city_or_id)
    if city_id is None:
        return None
    return pubcache.get_or_build(
        policy_scope(city_id), "profile",
        lambda: PolicyProfile.objects.select_related("city").filter(city_id=city_id).first(),
    )


def attach_policies(objects, path: str = "city"):
    """Give every object's city (reached through ``path``, e.g. "city" or "unit__city") its policy profile from
    the cache, one shared instance per city, so that ``obj.<path>.policy`` costs neither a query nor a JSON
    decode per row. The cities themselves must already be loaded (select_related / prefetch_related)."""
    profiles: dict = {}
    parts = path.split("__")
    for obj in objects:
        city = obj
        for part in parts:
            city = getattr(city, part, None)
            if city is None:
                break
        if city is None or city.pk is None:
            continue
        if city.pk not in profiles:
            profiles[city.pk] = policy_for(city.pk)
        profile = profiles[city.pk]
        if profile is not None:
            city._state.fields_cache["policy"] = profile
    return objects


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
