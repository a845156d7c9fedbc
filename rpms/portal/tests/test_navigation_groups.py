"""Navigation by role and to-do-first homes (issue #17 item 1): at most eight top-level entries, groups with
sub-menus that need no JavaScript, the current page and its group marked, a new applicant (a PLANNER account
without a registry record) shown none of the planner's own sections, and every staff home page opening with
its to-do list, the oldest deadline first."""
import re

import pytest

from rpms.accounts.models import Role, User
from rpms.cities.models import PolicyProfile
from rpms.core.pending import PendingItem
from rpms.portal import selectors
from rpms.portal.templatetags.shell import NAV_LINKS, TOP_LEVEL_MAX, nav_menu_for
from rpms.registry.models import Planner

pytestmark = pytest.mark.django_db

PERSONAS = ["city_admin", "district_officer", "hiring_entity", "planner_user", "auditor"]


def _nav(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    assert match, "no navigation"
    return match.group(0)


def _top_level(html: str) -> list[str]:
    return re.findall(r'<li class="site-nav__item', _nav(html))


def _registered(user, city):
    PolicyProfile.objects.get_or_create(city=city)
    return Planner.objects.create(city=city, name="李规划", user=user, pool_status="active")


@pytest.mark.parametrize("persona", [*PERSONAS, "anonymous", "superuser", "staff_admin"])
def test_every_menu_has_at_most_eight_top_level_entries(client, request, beijing, persona):
    if persona == "superuser":  # everything a role rule lets the superuser see
        client.force_login(User.objects.create_superuser(username="root", password="Root-pass-2026!", email="r@x.invalid"))
    elif persona == "staff_admin":
        client.force_login(User.objects.create_user(username="ops", password="x", role=Role.CITY_ADMIN, city=beijing,
                                                    is_staff=True))
    elif persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    entries = _top_level(client.get("/").content.decode())
    assert 2 <= len(entries) <= TOP_LEVEL_MAX


def test_the_menus_group_the_thirty_links_of_a_city_administrator(city_admin):
    menu = nav_menu_for(city_admin, "/")
    shown = [link for entry in menu for link in (entry["children"] or [entry])]
    assert len(shown) >= 25 and len(menu) <= TOP_LEVEL_MAX  # the issue saw 22-30 links in one strip
    assert [e["label"] for e in menu] == ["首页", "资源库与征集", "选派与聘任", "履职与意见", "考核与补贴", "统计与发布",
                                          "公开信息", "区划与设置"]


def test_groups_open_with_details_and_summary_and_the_phone_menu_needs_no_script(client, city_admin):
    client.force_login(city_admin)
    nav = _nav(client.get("/").content.decode())
    assert nav.count('<details class="site-nav__group">') == 7
    assert "<summary>资源库与征集</summary>" in nav
    assert 'type="checkbox" id="site-nav-toggle"' in nav and '<label for="site-nav-toggle"' in nav
    assert "<script" not in nav and "onclick" not in nav


def test_a_group_with_one_usable_link_is_shown_as_that_link(client, hiring_entity):
    client.force_login(hiring_entity)
    nav = _nav(client.get("/").content.decode())
    assert '<li class="site-nav__item"><a href="/appointments/">派驻聘任</a></li>' in nav
    assert "选派与聘任" not in nav


def test_the_current_page_and_its_group_are_marked(client, city_admin):
    client.force_login(city_admin)
    nav = _nav(client.get("/appointments/public/").content.decode())
    assert '<a href="/appointments/public/" aria-current="page">聘任公开</a>' in nav
    assert '<a href="/appointments/" aria-current="page">' not in nav  # the longest matching address wins
    assert '<summary aria-current="true">公开信息</summary>' in nav
    assert nav.count('aria-current="page"') == 1 and nav.count('aria-current="true"') == 1
    home = _nav(client.get("/").content.decode())
    assert '<a href="/" aria-current="page">首页</a>' in home and 'aria-current="true"' not in home


def test_a_new_applicant_sees_no_planner_section_it_cannot_use(client, beijing, planner_user):
    client.force_login(planner_user)  # a PLANNER account as registration makes it: no Planner row yet
    html = client.get("/").content.decode()
    nav = _nav(html)
    for label, path in (("继续教育", "/training/"), ("我的档案", "/pool/mine/"), ("履职管理", "/duties/"),
                        ("派驻聘任", "/appointments/"), ("利益冲突申报", "/dispatch/conflicts/")):
        assert f'href="{path}"' not in html and label not in nav, label
    assert '<a href="/recruitment/mine/">我的申请</a>' in nav and 'href="/recruitment/"' in nav

    _registered(planner_user, beijing)
    client.force_login(User.objects.get(pk=planner_user.pk))
    nav = _nav(client.get("/").content.decode())
    for path in ("/training/", "/pool/mine/", "/duties/", "/appointments/", "/dispatch/conflicts/"):
        assert f'href="{path}"' in nav, path


def test_the_separated_administrators_keep_their_small_menus(beijing):
    for role, link in ((Role.SYSTEM_ADMIN, "账户管理"), (Role.SECURITY_ADMIN, "账户管理"), (Role.AUDIT_ADMIN, "操作日志")):
        user = User.objects.create_user(username=f"adm_{role}", password="x", role=role)
        assert [e["label"] for e in nav_menu_for(user, "/")] == ["首页", link]


def test_every_link_of_the_menus_is_listed_once():
    urls = [link.fallback_path for link in NAV_LINKS]
    assert len(urls) == len(set(urls)) == 38  # 34 before, + 我的信息 and 资格信息变更核实 (item 8), 机构账户 and 工作委托 (item 7)


# --- to-do first --------------------------------------------------------------------------------------


def _first_section_after_header(main: str) -> str:
    header_end = main.index("</div>", main.index('class="page-header"'))
    match = re.search(r"<section[^>]*>", main[header_end:])
    assert match, "no section"
    return match.group(0)


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main"):html.index("</main>")]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_staff_home_starts_with_its_to_do_list_oldest_deadline_first(client, request, monkeypatch, beijing, persona):
    from rpms.core import pending

    items = [
        PendingItem(title="无期限的一般事项", url="/a/", count=1),
        PendingItem(title="晚到期的事项", url="/b/", count=2, due="最早 2026-09-30 到期", level="warn"),
        PendingItem(title="无期限的逾期事项", url="/c/", count=3, level="warn"),
        PendingItem(title="早到期的事项", url="/d/", count=4, due="最早答复期限 2026-03-02"),
    ]
    monkeypatch.setattr(pending, "PENDING_PROVIDERS", [lambda user: list(items)])
    user = request.getfixturevalue(persona)
    client.force_login(user)
    main = _main(client.get("/"))
    assert _first_section_after_header(main) == '<section class="card" aria-labelledby="pending-title">'
    titles = re.findall(r'<td><a href="/[a-d]/">([^<]+)</a></td>', main)
    assert titles == ["早到期的事项", "晚到期的事项", "无期限的逾期事项", "无期限的一般事项"]
    assert "最早答复期限 2026-03-02" in main and "共 4 项" in main


def test_the_deadline_is_read_from_the_items_text():
    assert selectors.pending_due_date(PendingItem(title="x", url="/", due="最早 2026-12-01 离任")).isoformat() == "2026-12-01"
    assert selectors.pending_due_date(PendingItem(title="x", url="/", due="其中逾期 3 条")) is None
    assert selectors.pending_due_date(PendingItem(title="x", url="/")) is None


def test_the_auditors_home_has_a_to_do_list_with_an_honest_empty_state(client, auditor):
    client.force_login(auditor)
    main = _main(client.get("/"))
    assert _first_section_after_header(main) == '<section class="card" aria-labelledby="pending-title">'
    assert "待办事项" in main and "暂无待办" in main
    assert main.index("pending-title") < main.index("查看操作日志")


def test_a_staff_session_waiting_for_its_second_factor_shows_no_menu(client, settings, city_admin):
    """TwoFactorMiddleware holds a password-only staff session on the code page: its menu would only lead back
    there, so none is shown until the code is given (and the full menu once it is)."""
    settings.RPMS_REQUIRE_2FA = True
    city_admin.set_password("Nav-2fa-check-2026")
    city_admin.save()
    response = client.post("/accounts/login/", {"username": city_admin.username, "password": "Nav-2fa-check-2026"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'class="site-nav"' not in page.content.decode()
    settings.RPMS_REQUIRE_2FA = False
    assert 'class="site-nav"' in client.get("/").content.decode()


def test_the_superuser_is_not_offered_a_planners_own_pages(beijing):
    root = User.objects.create_superuser(username="root_nav", password="x", email="")
    labels = {link["label"] for entry in nav_menu_for(root, "/") for link in (entry["children"] or [entry])}
    assert "资源库" in labels  # the institution's pages stay (installation and support)
    assert not labels & {"我的申请", "我的档案", "我的信息", "利益冲突申报"}
