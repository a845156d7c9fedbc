from typing import Any

from ninja import Router, Schema

from rpms.accounts.models import Role
from rpms.core.api import auth_required, json_object_body, require_role

from .eligibility import eligibility_check
from .selectors import city_get, city_list, policy_document
from .services import policy_update

router = Router(tags=["城市与政策配置"])


class CityOut(Schema):
    code: str
    name: str
    division_code: str
    rulebook_title: str
    article_prefix: str
    bureau_name: str
    scope_note: str
    policy_version: int


class FactsIn(Schema):
    degree: str = "none"
    degree_field: str = ""
    title_level: str = "none"
    title_field: str = ""
    registrations: list[str] = []
    experience_years: int = 0
    declarations: list[str] = []


@router.get("", auth=None, response=list[CityOut], summary="城市列表")
def cities(request):
    return [
        {
            "code": c.code, "name": c.name, "division_code": c.division_code, "rulebook_title": c.rulebook_title,
            "article_prefix": c.article_prefix, "bureau_name": c.bureau_name, "scope_note": c.scope_note,
            "policy_version": c.policy.version,
        }
        for c in city_list()
    ]


@router.get("/{code}/policy", auth=None, response=dict[str, Any], summary="城市政策配置（规则数据）")
def policy(request, code: str):
    """返回该城市制度文件中的全部数值和列表，如公示期、聘期、服务单元上限、考核等次、调出情形等。"""
    return policy_document(city_get(code))


@router.patch(
    "/{code}/policy",
    auth=auth_required,
    response=dict[str, Any],
    summary="修改政策配置（本市市级管理员）",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}},
)
def policy_patch(request, code: str):
    """请求体为 JSON 对象，只需包含要修改的项目，如 {"notice_working_days": 7}；校验不通过返回 400 及中文说明。"""
    require_role(request, Role.CITY_ADMIN)
    city = city_get(code)
    changes = json_object_body(request)
    policy_update(actor=request.user, city=city, changes=changes)
    city.refresh_from_db()
    return policy_document(city_get(code))


@router.post("/{code}/eligibility-check", auth=None, response=dict[str, Any], summary="按本市选聘条件逐条检查")
def eligibility(request, code: str, facts: FactsIn):
    """申请人提交前可自行检查：逐条给出是否符合及所依据的条款（B18、P4）。"""
    city = city_get(code)
    return eligibility_check(policy=city.policy, facts=facts.dict()).as_dict()
