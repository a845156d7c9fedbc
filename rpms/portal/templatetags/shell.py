"""Template tags for the page shell: the role-aware navigation.

Each link names the roles that can use it; a user sees only the links meant for them, so nobody
is led to a page that would answer 403. URL names of contexts still being built fall back to
their fixed paths, so the shell renders whatever the state of the other apps."""
from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse

from rpms.accounts.models import Role
from rpms.core.roles import ADMIN_ROLES
from rpms.core.selectors import can_view_action_log

register = template.Library()

STAFF = "staff"  # pseudo-role: Django admin for is_staff users


@dataclass(frozen=True)
class NavLink:
    label: str
    url_names: tuple[str, ...]  # the first that resolves wins
    fallback_path: str
    roles: tuple[str, ...] | None  # None: everyone
    allows: Callable | None = None  # when given, decides alone (e.g. the audit trail: not for the superuser)

    def url(self) -> str:
        for name in self.url_names:
            try:
                return reverse(name)
            except NoReverseMatch:
                continue
        return self.fallback_path


NAV_LINKS = (
    NavLink("首页", ("portal:home",), "/", None),
    NavLink("征集与公示", ("recruitment:call_list",), "/recruitment/", None),
    NavLink("一张图", ("publicinfo:map",), "/info/map/", None),
    NavLink("公示公告", ("publicinfo:announcement_list",), "/info/announcements/", None),
    NavLink("聘任公开", ("appointments:public_list",), "/appointments/public/", None),
    NavLink("意见建议", ("suggestions:public",), "/suggestions/", None),
    NavLink("政策解读", ("publicinfo:policy_index",), "/info/policies/", None),
    NavLink("开放数据", ("publicinfo:open_data",), "/info/open-data/", None),
    NavLink("文书核验", ("documents:verify",), "/verify/", None),
    NavLink("优秀案例", ("cases:public_list", "cases:list"), "/cases/", None),
    NavLink("表彰名单", ("assessments:honours_public",), "/assessments/honours/", None),
    NavLink("我的申请", ("recruitment:my_applications",), "/recruitment/mine/", (Role.PLANNER,)),
    NavLink("我的档案", ("registry:my_dossier",), "/pool/mine/", (Role.PLANNER,)),
    NavLink("征集管理", ("recruitment:manage",), "/recruitment/manage/", (Role.CITY_ADMIN, Role.AUDITOR)),
    NavLink("资源库", ("registry:pool_list",), "/pool/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("统筹选派", ("dispatch:index",), "/dispatch/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("派驻聘任", ("appointments:list",), "/appointments/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)),
    NavLink("履职管理", ("duties:home",), "/duties/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)),
    NavLink("书面意见", ("opinions:list",), "/opinions/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)),
    NavLink("意见建议办理", ("suggestions:manage_list",), "/suggestions/manage/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.PLANNER, Role.AUDITOR)),
    NavLink("利益冲突申报", ("dispatch:conflicts",), "/dispatch/conflicts/", (Role.PLANNER,)),
    NavLink("案例报送", ("cases:manage_list", "cases:manage"), "/cases/manage/", (Role.CITY_ADMIN, Role.PLANNER, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("责任单元", ("geography:unit_list",), "/geography/units/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("区划", ("geography:district_list",), "/geography/districts/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("工作日历", ("workdays:index", "workdays:year_list"), "/workdays/", (Role.CITY_ADMIN,)),
    NavLink("政策配置", ("cities:list",), "/cities/", (Role.CITY_ADMIN,)),
    NavLink("考核评议", ("assessments:list",), "/assessments/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)),
    NavLink("补贴与费用", ("finance:home",), "/finance/",
            (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)),
    NavLink("继续教育", ("training:home",), "/training/", (Role.CITY_ADMIN, Role.PLANNER, Role.AUDITOR)),
    NavLink("年度统计", ("reports:statistics",), "/statistics/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
    NavLink("公告与解读管理", ("publicinfo:manage",), "/info/manage/", (Role.CITY_ADMIN, Role.AUDITOR)),
    NavLink("操作日志", ("core:audit_list",), "/audit/", (Role.AUDIT_ADMIN, Role.CITY_ADMIN, Role.AUDITOR),
            allows=can_view_action_log),
    NavLink("账户管理", ("accounts:manage_list",), "/accounts/manage/", (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)),
    NavLink("管理后台", ("admin:index",), "/admin/", (STAFF,)),
)


def _allowed(link: NavLink, user) -> bool:
    if link.allows is not None:
        return bool(link.allows(user))
    if link.roles is None:
        # the public pages, but not in a separated administrator's menu: it reaches only its own pages
        # (rpms.core.roles.administrator_may_use; the public site is open to it signed out like to anyone)
        return link.url() == "/" or getattr(user, "role", "") not in ADMIN_ROLES
    if not getattr(user, "is_authenticated", False):
        return False
    if STAFF in link.roles:
        return bool(user.is_staff)
    if set(link.roles) <= set(ADMIN_ROLES):
        # The separated administrators' own pages: not the superuser's (installation only, 三权分立).
        return user.role in link.roles
    return bool(user.is_superuser) or user.role in link.roles


def nav_links_for(user, path: str = "") -> list[dict]:
    links = []
    for link in NAV_LINKS:
        if not _allowed(link, user):
            continue
        url = link.url()
        current = path == url if url == "/" else path.startswith(url)
        links.append({"label": link.label, "url": url, "current": current})
    return links


@register.simple_tag(takes_context=True)
def nav_links(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return nav_links_for(user, getattr(request, "path", ""))
