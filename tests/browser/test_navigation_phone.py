"""The grouped navigation in a real browser (issue #17 item 1): on a 390×844 phone the menu is one "菜单"
button that unfolds the entries as a column (nothing scrolls sideways); a group opens by keyboard and its
links are reachable; on a desktop the entries are one row and a group drops down. No JavaScript involved."""
import pytest

from .conftest import DESKTOP, PHONE, login

pytestmark = pytest.mark.django_db(transaction=True)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_city_administrators_menu_on_a_phone_folds_into_one_button(pages, city_admin):
    page = login(pages.open(viewport=PHONE, java_script_enabled=False), city_admin)
    page.goto("/")
    toggle = page.locator("label.site-nav__toggle-label")
    assert toggle.is_visible() and toggle.inner_text().strip().endswith("菜单")
    assert not page.locator(".site-nav__list").is_visible()
    _no_sideways_scroll(page)
    assert page.locator("#pending-title").is_visible()  # the to-do list is on the first screen

    page.keyboard.press("Tab")  # skip link
    page.locator("#site-nav-toggle").focus()
    page.keyboard.press("Space")
    entries = page.locator(".site-nav__list > li")
    assert entries.count() <= 8 and entries.first.is_visible()
    boxes = [entries.nth(i).bounding_box() for i in range(entries.count())]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] + 1 for b in boxes)
    assert len({round(b["x"]) for b in boxes}) == 1  # a column, not a strip
    _no_sideways_scroll(page)

    group = page.locator("summary", has_text="区划与设置")
    group.focus()
    page.keyboard.press("Enter")
    link = page.locator(".site-nav").get_by_role("link", name="工作日历", exact=True)
    assert link.is_visible()
    box = link.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith("/workdays/") or "/workdays/" in page.url


def test_on_a_desktop_the_entries_are_one_row_and_a_group_drops_down(pages, city_admin):
    page = login(pages.open(viewport=DESKTOP, java_script_enabled=False), city_admin)
    page.goto("/")
    assert not page.locator("label.site-nav__toggle-label").is_visible()
    entries = page.locator(".site-nav__list > li")
    tops = {round(entries.nth(i).bounding_box()["y"]) for i in range(entries.count())}
    assert len(tops) == 1
    assert not page.locator(".site-nav").get_by_role("link", name="政策配置", exact=True).is_visible()
    page.locator("summary", has_text="区划与设置").click()
    assert page.locator(".site-nav").get_by_role("link", name="政策配置", exact=True).is_visible()
    _no_sideways_scroll(page)
