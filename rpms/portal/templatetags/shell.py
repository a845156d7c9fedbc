"""Template tags for the page shell: the role-aware navigation, grouped (issue #17, item 1).

Each link names the roles that can use it; a user sees only the links meant for them, so nobody
is led to a page that would answer 403. The links are arranged in at most eight top-level entries
(NAV_MENU): a direct link or a group with a sub-menu; a group nobody may use disappears, and a group
with a single usable link is shown as that link. URL names of contexts still being built fall back to
their fixed paths, so the shell renders whatever the state of the other apps."""
from collections.abc import Callable
from dataclasses import dataclass

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.urls import NoReverseMatch, reverse

from rpms.accounts.models import Role
from rpms.accounts.twofactor import two_factor_required
from rpms.core.roles import ADMIN_ROLES
from rpms.core.selectors import can_view_action_log

register = template.Library()

STAFF = "staff"  # pseudo-role: Django admin for is_staff users
TOP_LEVEL_MAX = 8

STAFF_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)


@dataclass(frozen=True)
class NavLink:
    label: str
    url_names: tuple[str, ...]  # the first that resolves wins
    fallback_path: str
    roles: tuple[str, ...] | None  # None: everyone
    allows: Callable | None = None  # when given, decides alone (e.g. the audit trail: not for the superuser)
    # A planner's own sections answer 403/404 until the registry holds the planner (a new applicant has a
    # PLANNER account and no Planner row): shown to a planner only once that row exists.
    planner_record: bool = False

    def url(self) -> str:
        for name in self.url_names:
            try:
                return reverse(name)
            except NoReverseMatch:
                continue
        return self.fallback_path


@dataclass(frozen=True)
class NavGroup:
    label: str
    links: tuple[NavLink, ...]


HOME = NavLink("首页", ("portal:home",), "/", None)

# The public pages, open to everyone (P5: disclosure).
CALLS = NavLink("征集与公示", ("recruitment:call_list",), "/recruitment/", None)
MAP = NavLink("一张图", ("publicinfo:map",), "/info/map/", None)
ANNOUNCEMENTS = NavLink("公示公告", ("publicinfo:announcement_list",), "/info/announcements/", None)
PUBLIC_APPOINTMENTS = NavLink("聘任公开", ("appointments:public_list",), "/appointments/public/", None)
PUBLIC_SUGGESTIONS = NavLink("意见建议", ("suggestions:public",), "/suggestions/", None)
POLICIES = NavLink("政策解读", ("publicinfo:policy_index",), "/info/policies/", None)
OPEN_DATA = NavLink("开放数据", ("publicinfo:open_data",), "/info/open-data/", None)
VERIFY = NavLink("文书核验", ("documents:verify",), "/verify/", None)
CASES = NavLink("优秀案例", ("cases:public_list", "cases:list"), "/cases/", None)
HONOURS = NavLink("表彰名单", ("assessments:honours_public",), "/assessments/honours/", None)
PUBLIC_LINKS = (CALLS, MAP, ANNOUNCEMENTS, PUBLIC_APPOINTMENTS, PUBLIC_SUGGESTIONS, POLICIES, OPEN_DATA, VERIFY,
                CASES, HONOURS)

# The menu of a signed-in user: at most eight top-level entries.
NAV_MENU: tuple[NavLink | NavGroup, ...] = (
    HOME,
    NavGroup("资源库与征集", (
        NavLink("我的申请", ("recruitment:my_applications",), "/recruitment/mine/", (Role.PLANNER,)),
        NavLink("我的档案", ("registry:my_dossier",), "/pool/mine/", (Role.PLANNER,), planner_record=True),
        NavLink("我的信息", ("registry:profile_edit",), "/pool/mine/profile/", (Role.PLANNER,), planner_record=True),
        NavLink("征集管理", ("recruitment:manage",), "/recruitment/manage/", (Role.CITY_ADMIN, Role.AUDITOR)),
        NavLink("资源库", ("registry:pool_list",), "/pool/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
        NavLink("资格信息变更核实", ("registry:profile_changes",), "/pool/profile-changes/", (Role.CITY_ADMIN, Role.AUDITOR)),
        NavLink("继续教育", ("training:home",), "/training/", (Role.CITY_ADMIN, Role.PLANNER, Role.AUDITOR),
                planner_record=True),
    )),
    NavGroup("选派与聘任", (
        NavLink("统筹选派", ("dispatch:index",), "/dispatch/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
        NavLink("派驻聘任", ("appointments:list",), "/appointments/", STAFF_ROLES, planner_record=True),
        NavLink("利益冲突申报", ("dispatch:conflicts",), "/dispatch/conflicts/", (Role.PLANNER,), planner_record=True),
    )),
    NavGroup("履职与意见", (
        NavLink("履职管理", ("duties:home",), "/duties/", STAFF_ROLES, planner_record=True),
        NavLink("书面意见", ("opinions:list",), "/opinions/", STAFF_ROLES, planner_record=True),
        NavLink("意见建议办理", ("suggestions:manage_list",), "/suggestions/manage/",
                (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.PLANNER, Role.AUDITOR), planner_record=True),
        NavLink("案例报送", ("cases:manage_list", "cases:manage"), "/cases/manage/",
                (Role.CITY_ADMIN, Role.PLANNER, Role.DISTRICT_OFFICER, Role.AUDITOR), planner_record=True),
    )),
    NavGroup("考核与补贴", (
        NavLink("考核评议", ("assessments:list",), "/assessments/", STAFF_ROLES, planner_record=True),
        NavLink("补贴与费用", ("finance:home",), "/finance/", STAFF_ROLES, planner_record=True),
    )),
    NavGroup("统计与发布", (
        NavLink("年度统计", ("reports:statistics",), "/statistics/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
        NavLink("公告与解读管理", ("publicinfo:manage",), "/info/manage/", (Role.CITY_ADMIN, Role.AUDITOR)),
    )),
    NavGroup("公开信息", PUBLIC_LINKS),
    NavGroup("区划与设置", (
        NavLink("责任单元", ("geography:unit_list",), "/geography/units/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
        NavLink("区划", ("geography:district_list",), "/geography/districts/", (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)),
        NavLink("工作日历", ("workdays:index", "workdays:year_list"), "/workdays/", (Role.CITY_ADMIN,)),
        NavLink("政策配置", ("cities:list",), "/cities/", (Role.CITY_ADMIN,)),
        NavLink("机构账户", ("accounts:city_account_list",), "/accounts/city/", (Role.CITY_ADMIN,)),
        NavLink("工作委托", ("accounts:delegation_list",), "/accounts/delegations/",
                (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY)),
        NavLink("操作日志", ("core:audit_list",), "/audit/", (Role.AUDIT_ADMIN, Role.CITY_ADMIN, Role.AUDITOR),
                allows=can_view_action_log),
        NavLink("账户管理", ("accounts:manage_list",), "/accounts/manage/", (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)),
        NavLink("管理后台", ("admin:index",), "/admin/", (STAFF,)),
    )),
)

# The menu of an anonymous visitor: what residents look for first, the rest under 公开信息.
PUBLIC_MENU: tuple[NavLink | NavGroup, ...] = (
    HOME, CALLS, PUBLIC_SUGGESTIONS, MAP,
    NavGroup("公开信息", (ANNOUNCEMENTS, PUBLIC_APPOINTMENTS, POLICIES, OPEN_DATA, CASES, HONOURS)),
    VERIFY,
)

# Every link once, in menu order (the role rules per link).
NAV_LINKS: tuple[NavLink, ...] = tuple(
    link for entry in NAV_MENU for link in (entry.links if isinstance(entry, NavGroup) else (entry,))
)


def has_registry_record(user) -> bool:
    """Whether a planner account is linked to a Planner row (cached on the user by the reverse one-to-one:
    one query per request at most, none when the page already read it)."""
    try:
        return user.planner is not None
    except ObjectDoesNotExist:
        return False


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
    if user.role == Role.PLANNER and user.role in link.roles:
        return not link.planner_record or has_registry_record(user)
    if tuple(link.roles) == (Role.PLANNER,):
        return False  # a planner's own pages (我的申请, 我的档案 …): the superuser has no application or dossier
    return bool(user.is_superuser) or user.role in link.roles


def _second_factor_pending(user) -> bool:
    """A staff session signed in with the password only (TwoFactorMiddleware holds it on the code page)."""
    is_verified = getattr(user, "is_verified", None)
    return is_verified is not None and two_factor_required(user) and not is_verified()


def _current_url(urls: list[str], path: str) -> str | None:
    """The link the page belongs to: the longest link address the path starts with ("/" only for itself),
    so that /appointments/public/ is 聘任公开 and not 派驻聘任."""
    matching = [u for u in urls if (path == u if u == "/" else path.startswith(u))]
    return max(matching, key=len) if matching else None


def nav_menu_for(user, path: str = "") -> list[dict]:
    """The top-level entries for `user`: {"label", "url", "current", "children"} where `children` lists
    the links of a group ({"label", "url", "current"}); a group of one link is shown as that link."""
    signed_in = bool(getattr(user, "is_authenticated", False))
    if signed_in and _second_factor_pending(user):
        return []  # the password was right, the code is not yet given: every page but the code page is held
    entries = []
    for entry in NAV_MENU if signed_in else PUBLIC_MENU:
        links = entry.links if isinstance(entry, NavGroup) else (entry,)
        shown = [{"label": link.label, "url": link.url(), "current": False} for link in links if _allowed(link, user)]
        if not shown:
            continue
        if isinstance(entry, NavGroup) and len(shown) > 1:
            entries.append({"label": entry.label, "url": "", "current": False, "children": shown})
        else:
            entries.append({**shown[0], "children": []})
    current = _current_url([link["url"] for e in entries for link in (e["children"] or [e])], path)
    for e in entries:
        for link in e["children"] or [e]:
            if current is not None and link["url"] == current:
                link["current"] = True
                e["current"] = True
    return entries


def nav_links_for(user, path: str = "") -> list[dict]:
    """The menu's links flattened, in menu order (the home pages' quick links)."""
    links = []
    for entry in nav_menu_for(user, path):
        for link in entry["children"] or [entry]:
            links.append({"label": link["label"], "url": link["url"], "current": link["current"],
                          "group": entry["label"] if entry["children"] else ""})
    return links


def _request_user_path(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user, getattr(request, "path", "")


@register.simple_tag(takes_context=True)
def nav_menu(context):
    return nav_menu_for(*_request_user_path(context))


@register.simple_tag(takes_context=True)
def nav_links(context):
    return nav_links_for(*_request_user_path(context))
