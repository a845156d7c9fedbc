"""Issue #17 items 1 and 9 in the demo world: every demo role (and a new applicant, and the three separated
administrators) gets a menu of at most eight top-level entries whose every link opens for it; each staff home
page opens with its to-do list, oldest deadline first; the public home page's example searches all find a
street and the planner serving it."""
import datetime as dt
import re


from rpms.accounts.models import Role, User
from rpms.portal.templatetags.shell import TOP_LEVEL_MAX, nav_menu_for

from .conftest import DEMO_ROLES

STAFF_HOMES = ["city_admin", "city_admin_pingdingshan", "district_officer", "street_office", "planner", "auditor"]


def _applicant():
    from rpms.accounts.services import planner_account_register
    from rpms.cities.models import City

    return planner_account_register(username="new_applicant", password="Rpms-demo-2026-new!", display_name="新申请人",
                                    email="", mobile="13800138000", city=City.objects.get(code="beijing"))


def _users():
    users = {name: User.objects.get(username=username) for name, username in DEMO_ROLES.items() if username}
    users["anonymous"] = None
    users["new_applicant"] = _applicant()
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        users[role] = User.objects.get(role=role)
    return users


def _nav(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    assert match, "no navigation"
    return match.group(0)


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def test_every_role_has_at_most_eight_entries_and_every_link_opens(client, demo_world):
    for name, user in _users().items():
        client.logout()
        if user is not None:
            client.force_login(user)
        nav = _nav(client.get("/").content.decode())
        top = re.findall(r'<li class="site-nav__item', nav)
        assert 2 <= len(top) <= TOP_LEVEL_MAX, (name, len(top))
        for entry in nav_menu_for(user or _anonymous(), "/"):
            for link in entry["children"] or [entry]:
                response = client.get(link["url"], follow=True)
                assert response.status_code < 400, (name, link["label"], link["url"], response.status_code)


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_a_new_applicant_sees_no_continuing_education_or_dossier(client, demo_world):
    client.force_login(_applicant())
    html = client.get("/").content.decode()
    nav = _nav(html)
    assert "继续教育" not in nav and "我的档案" not in nav
    assert 'href="/training/"' not in html and 'href="/pool/mine/"' not in html
    assert "我的申请" in nav


def test_every_staff_home_starts_with_its_to_do_list_oldest_deadline_first(client, demo_world):
    users = _users()
    seen_dated = 0
    for name in STAFF_HOMES:
        client.force_login(users[name])
        main = _main(client.get("/").content.decode())
        header_end = main.index("</div>", main.index('class="page-header"'))
        first = re.search(r"<section[^>]*>", main[header_end:]).group(0)
        assert first == '<section class="card" aria-labelledby="pending-title">', name
        section = main[main.index('aria-labelledby="pending-title"'):]
        section = section[:section.index("</section>")]
        dues = re.findall(r"<td>([^<]*)</td>\s*</tr>", section)
        dates = [re.search(r"\d{4}-\d{2}-\d{2}", d) for d in dues]
        dated = [dt.date.fromisoformat(m.group(0)) for m in dates if m]
        seen_dated += len(dated)
        assert dated == sorted(dated), (name, dues)
        if None in dates:  # undated after every dated one
            assert all(m is None for m in dates[dates.index(None):]), (name, dues)
    assert seen_dated  # the demo world has at least one dated item (the planner's suggestions to answer)


def test_the_auditors_to_do_names_what_is_overdue_and_every_line_opens(client, demo_world, clock):
    clock.set(clock.today + dt.timedelta(days=60))  # the demo's suggestions are past their reply period by then
    client.force_login(User.objects.get(username=DEMO_ROLES["auditor"]))
    main = _main(client.get("/").content.decode())
    section = main[main.index('aria-labelledby="pending-title"'):]
    section = section[:section.index("</section>")]
    assert "超过答复期限未答复的居民意见建议" in section and "暂无待办" not in section
    links = re.findall(r'<td><a href="([^"]+)">', section)
    assert links
    for url in links:
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_every_example_on_the_public_home_finds_a_street_and_its_planner(client, demo_world):
    main = _main(client.get("/").content.decode())
    examples = re.findall(r'<a href="(/[^"?]*\?q=[^"]+)">([^<]+)</a>', main[main.index('id="search-examples"'):])
    assert len(examples) >= 2 and "卫东" not in [text for _, text in examples]
    for url, text in examples:
        response = client.get(url.replace("&amp;", "&"))
        rows = response.context["lookup"].rows
        assert rows, text
        assert any(row.planners for row in rows), text
        assert "没有找到" not in _main(response.content.decode())


def test_examples_come_from_streets_with_a_disclosed_planner(client, beijing, pingdingshan):
    """Without the demo world (runs on PostgreSQL too): the examples name only streets whose unit has a filed,
    disclosed appointment, and each finds that street with its planner; a city with none gives no example."""
    from rpms.portal.selectors import search_examples
    from rpms.testing.builders import appointment_build, planner_build, unit_of

    assert search_examples([beijing, pingdingshan]) == []
    unit = unit_of(beijing, "110108001")
    appointment = appointment_build(unit=unit, planner=planner_build(beijing, "示例规划师"), filed=True)
    assert appointment.disclosed and appointment.filed_at
    examples = search_examples([beijing, pingdingshan])
    street = unit.memberships.get(subdistrict__code="110108001").subdistrict
    assert [(e.query, e.city.code) for e in examples] == [(street.name.removesuffix("街道"), "beijing")]
    main = _main(client.get("/").content.decode())
    assert f'<a href="{examples[0].url.replace("&", "&amp;")}">{examples[0].query}</a>' in main
    response = client.get(examples[0].url)
    assert [row.subdistrict.pk for row in response.context["lookup"].rows] == [street.pk]
    assert [p.name for p in response.context["lookup"].rows[0].planners] == ["示例规划师"]


def test_the_auditors_to_do_counts_the_suggestions_past_their_reply_period(client, beijing, auditor, clock):
    """Without the demo world (runs on PostgreSQL too): a suggestion nobody answered shows on the auditor's home
    once its reply period is over, with its count and the earliest deadline, and the line opens for the auditor."""
    from rpms.suggestions.services import suggestion_submit
    from rpms.testing.builders import unit_of

    unit = unit_of(beijing, "110108001")
    street = unit.memberships.get(subdistrict__code="110108001").subdistrict
    first = suggestion_submit(actor=None, unit=unit, subdistrict=street, category="suggestion", content="建议增设座椅。")
    suggestion_submit(actor=None, unit=unit, subdistrict=street, category="suggestion", content="建议修缮步道。")
    client.force_login(auditor)
    assert "暂无待办" in _main(client.get("/").content.decode())
    clock.set(first.due_on + dt.timedelta(days=1))
    client.force_login(auditor)  # a fresh session at the moved time
    main = _main(client.get("/").content.decode())
    section = main[main.index('aria-labelledby="pending-title"'):main.index("</section>")]
    assert "超过答复期限未答复的居民意见建议" in section
    assert re.search(r'<span class="badge warn">2</span>', section)
    assert f"最早答复期限 {first.due_on:%Y-%m-%d}" in section
    assert client.get("/suggestions/manage/?overdue=1").status_code == 200
