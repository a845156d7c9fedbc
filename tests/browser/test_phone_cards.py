"""Phones (issue #17 item 6): on a 390×844 screen the main list tables of planners and residents are cards
(`table.table.cards`, static/css/site.css): the key field and the row's main action are inside the viewport
without sideways scrolling, each cell shows its column label (data-label), the key field comes first; on a
desktop the same tables stay ordinary tables.

The browser tests drive Debian's chromium (tests/browser/conftest.py); the last test checks without a browser
that the templates render the data-label attributes."""
import datetime as dt
import re
from types import SimpleNamespace

import pytest

from .builders import appoint, notice_with_candidates, pool_member, unit_of
from .conftest import DESKTOP, PHONE, login

NOTICE_START = dt.date(2026, 11, 2)  # a Monday: the notice is open on this day
OPINION_TITLE = "关于万寿路西街口袋公园设计方案的书面意见"
PLANNER_NAME = "岳晓明"
CANDIDATES = ["孙手机", "周手机"]


@pytest.fixture
def phone_world(clock, beijing, haidian, city_admin, district_haidian):
    """A planner serving 万寿路街道's unit on a filed (hence public) appointment, with a draft written
    opinion; an open public notice of two approved applicants (the first one signs in as the applicant)."""
    from rpms.opinions.services import opinion_create

    clock.set(NOTICE_START)
    notice, applications = notice_with_candidates(city_admin, beijing, start=NOTICE_START, names=CANDIDATES)
    unit = unit_of(beijing, "110108001")
    planner = pool_member(beijing, PLANNER_NAME, districts=[haidian], with_account=True)
    appoint(city_admin, planner, unit, filed_by=district_haidian)
    opinion = opinion_create(actor=planner.user, unit=unit, subject="万寿路西街口袋公园设计方案",
                             subject_kind="design_scheme", title=OPINION_TITLE)
    application = applications[CANDIDATES[0]]
    application.refresh_from_db()
    return SimpleNamespace(notice=notice, unit=unit, planner=planner, opinion=opinion, application=application,
                           applicant=application.applicant)


def _phone(pages):
    return pages.open(viewport=PHONE, is_mobile=True, has_touch=True)


def _assert_in_viewport(page, locator, what):
    """`locator` is visible and its box lies within the 390 px wide viewport (0..390 horizontally)."""
    assert locator.is_visible(), f"{what}不可见"
    box = locator.bounding_box()
    assert box is not None, f"{what}没有显示区域"
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{what}超出屏幕宽度：{box}"
    assert box["width"] > 0 and box["height"] > 0, f"{what}大小为零：{box}"


def _assert_no_sideways_scroll(page):
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"页面可以横向滚动（宽 {width}px）"


def _assert_card(page, row, key, action, *, key_text, action_text):
    """The row is a card: the key cell and the main action are in the viewport, nothing scrolls sideways,
    the key cell comes first (above every other cell), the cells show their labels from data-label."""
    _assert_no_sideways_scroll(page)
    assert key_text in key.inner_text()
    _assert_in_viewport(page, key, f"关键字段“{key_text}”")
    assert action_text in action.inner_text()
    _assert_in_viewport(page, action, f"操作“{action_text}”")
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    tops = row.locator("td").evaluate_all(
        "cells => cells.filter(c => c.offsetParent !== null).map(c => c.getBoundingClientRect().top)")
    key_top = key.evaluate("c => c.getBoundingClientRect().top")
    assert key_top == min(tops), "关键字段不在卡片的第一行"
    labels = row.locator("td[data-label]:not(.card-key):not(.card-action)").evaluate_all(
        "cells => cells.map(c => [c.dataset.label, getComputedStyle(c, '::before').content])")
    assert labels, "卡片中没有带列名的字段"
    for label, shown in labels:
        assert label in shown, f"字段未显示列名“{label}”：{shown}"


@pytest.mark.browser
def test_the_planners_duty_list_shows_the_unit_and_record_action_on_a_phone(pages, phone_world):
    page = login(_phone(pages), phone_world.planner.user)
    page.goto("/duties/")
    row = page.locator("table.cards", has_text="记录履职").locator("tbody tr").first
    _assert_card(page, row, row.locator("td.card-key"), row.get_by_role("link", name="记录履职"),
                 key_text=phone_world.unit.name, action_text="记录履职")
    row.get_by_role("link", name="记录履职").click()
    assert page.url.endswith(f"/duties/units/{phone_world.unit.pk}/")


@pytest.mark.browser
def test_the_opinions_list_shows_the_title_and_view_action_on_a_phone(pages, phone_world):
    page = login(_phone(pages), phone_world.planner.user)
    page.goto("/opinions/")
    row = page.locator("table.cards tbody tr").first
    _assert_card(page, row, row.locator("td.card-key"), row.get_by_role("link", name="查看"),
                 key_text=OPINION_TITLE, action_text="查看")


@pytest.mark.browser
def test_the_applicants_applications_show_the_status_and_details_action_on_a_phone(pages, phone_world):
    page = login(_phone(pages), phone_world.applicant)
    page.goto("/recruitment/mine/")
    row = page.locator("table.cards tbody tr").first
    status = row.locator("td[data-label='状态']")
    assert status.inner_text().strip() == phone_world.application.get_status_display()
    _assert_in_viewport(page, status, "申请状态")
    _assert_card(page, row, row.locator("td.card-key"), row.get_by_role("link", name="详情"),
                 key_text=phone_world.notice.call.title, action_text="详情")


@pytest.mark.browser
def test_the_public_appointment_list_shows_the_planner_and_unit_link_on_a_phone(pages, phone_world):
    page = _phone(pages)
    page.goto("/appointments/public/")
    row = page.locator("table.cards tbody tr", has_text=PLANNER_NAME).first
    unit_link = row.get_by_role("link", name=phone_world.unit.name)
    _assert_card(page, row, row.locator("td.card-key"), unit_link, key_text=PLANNER_NAME,
                 action_text=phone_world.unit.name)
    unit_link.click()
    assert PLANNER_NAME in page.locator("main").inner_text()


@pytest.mark.browser
def test_the_notice_shows_each_candidate_and_an_objection_link_on_a_phone(pages, phone_world):
    page = _phone(pages)
    page.goto(f"/recruitment/notices/{phone_world.notice.pk}/")
    row = page.locator("table.cards tbody tr").first
    action = row.get_by_role("link", name="对此人选提出异议")
    _assert_card(page, row, row.locator("td.card-key"), action, key_text=CANDIDATES[0],
                 action_text="对此人选提出异议")
    action.click()
    # The objection form opens with this candidate chosen.
    chosen = page.locator("#id_application option:checked").inner_text()
    assert chosen.startswith(CANDIDATES[0]), chosen


@pytest.mark.browser
def test_the_same_tables_stay_tables_on_a_desktop(pages, phone_world):
    page = login(pages.open(viewport=DESKTOP), phone_world.planner.user)
    for path in ("/duties/", "/opinions/"):
        page.goto(path)
        table = page.locator("table.cards").first
        assert table.evaluate("t => getComputedStyle(t).display") == "table"
        assert table.locator("thead").is_visible()
        row = table.locator("tbody tr").first
        assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
        tops = {round(top) for top in row.locator("td").evaluate_all(
            "cells => cells.map(c => c.getBoundingClientRect().top)")}
        assert len(tops) == 1, f"{path}：表格行的单元格不在同一行"
        labels = row.locator("td[data-label]").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert set(labels) <= {"none", "normal"}, f"{path}：桌面上不应显示列名：{labels}"


# --- without a browser: the templates render the labels ------------------------------------------------


def _card_rows(html):
    """The cells of every row of every table.cards in `html`: [(class, data-label), ...] per row."""
    tables = re.findall(r'<table class="table cards">(.*?)</table>', html, re.S)
    assert tables, "页面没有 table.cards"
    rows = []
    for table in tables:
        body = table.split("<tbody>", 1)[1]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            rows.append(re.findall(r'<td(?: class="([^"]*)")?(?: data-label="([^"]*)")?>', row))
    return rows


def test_the_list_templates_render_the_column_labels(client, phone_world):
    """Each page's card tables label every cell and mark the key field (and the action, where there is one)."""
    planner_user = phone_world.planner.user
    cases = [
        (planner_user, "/duties/", "责任单元", "操作"),
        (planner_user, "/opinions/", "标题", "操作"),
        (phone_world.applicant, "/recruitment/mine/", "征集", "操作"),
        (None, "/appointments/public/", "责任规划师（团队）", None),
        (None, f"/recruitment/notices/{phone_world.notice.pk}/", "姓名", "操作"),
    ]
    for user, path, key_label, action_label in cases:
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        rows = _card_rows(html)
        assert rows, path
        for cells in rows:
            assert cells and all(label for _, label in cells), f"{path}：有单元格没有 data-label：{cells}"
            classes = {label: css for css, label in cells}
            assert "card-key" in classes.get(key_label, ""), f"{path}：关键字段“{key_label}”未标记：{cells}"
            if action_label:
                assert "card-action" in classes.get(action_label, ""), f"{path}：操作未标记：{cells}"
