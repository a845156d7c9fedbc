"""The coverage map (一张图, B4; issue #7): /info/map/ draws Beijing's 16 districts as filled SVG shapes;
once an appointment in a Haidian unit is filed, Haidian alone takes a "covered" colour; activating the
district (here with the keyboard) lists its units with the planner or "空缺"."""
import pytest

from .builders import appoint, pool_member, unit_of

pytestmark = [pytest.mark.browser]

HAIDIAN = "110108"

# Every drawn district shape: its district code (from the enclosing link), the fill actually painted
# (computed style, so a CSS rule overriding the attribute is seen) and its rendered size.
DISTRICT_SHAPES = """() => [...document.querySelectorAll("svg path")].map(path => {
  const link = path.closest("a");
  const holder = path.closest("[data-district]");
  const href = link ? (link.getAttribute("href") || link.getAttribute("xlink:href") || "") : "";
  const code = holder ? holder.getAttribute("data-district") : ((href.match(/\\/map\\/(\\d{6})\\/?$/) || [])[1] || "");
  const box = path.getBBox();
  return {code, href, fill: getComputedStyle(path).fill, width: box.width, height: box.height};
})"""


def shapes_by_district(page) -> dict:
    shapes = [s for s in page.evaluate(DISTRICT_SHAPES) if s["code"]]
    by_code = {s["code"]: s for s in shapes}
    assert len(shapes) == len(by_code), "每个区应只有一个图形"
    return by_code


def test_the_map_draws_16_coloured_districts_and_colours_haidian_once_a_contract_is_filed(
    pages, beijing, haidian, city_admin, district_haidian
):
    page = pages.open()
    response = page.goto("/info/map/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "责任规划师服务覆盖一张图"

    before = shapes_by_district(page)
    district_codes = set(beijing.districts.values_list("code", flat=True))
    assert len(before) == 16 and set(before) <= district_codes
    for code, shape in before.items():
        assert shape["fill"] not in ("", "none", "rgba(0, 0, 0, 0)"), f"{code} 没有填充色"
        assert shape["width"] > 0 and shape["height"] > 0, f"{code} 的图形没有画出来"
        assert shape["href"].endswith(f"/info/map/{code}/"), f"{code} 没有链接到 /info/map/{code}/（无脚本时的备用）"
    assert len({s["fill"] for s in before.values()}) == 1, "尚无任何聘任时各区应为同一颜色"

    # A planner's contract in Haidian is filed (server side, through the services).
    unit = unit_of(beijing, "110108001")
    planner = pool_member(beijing, "岳晓明", districts=[haidian])
    appoint(city_admin, planner, unit, filed_by=district_haidian)

    page.reload()
    after = shapes_by_district(page)
    assert set(after) == set(before)
    uncovered = before[HAIDIAN]["fill"]
    assert after[HAIDIAN]["fill"] != uncovered, "海淀区有在任责任规划师后颜色应改变"
    assert all(after[code]["fill"] == uncovered for code in after if code != HAIDIAN)
    legend = page.locator(".legend").first.inner_text()
    assert "尚未覆盖" in legend and "部分覆盖" in legend
    assert "已有在任责任规划师 1 个" in page.locator(".page-header").inner_text()

    # Keyboard: focus Haidian's shape and press Enter; its units appear with the planner or "空缺".
    page.locator(f'svg a[data-district="{HAIDIAN}"]').focus()
    page.keyboard.press("Enter")
    panel = page.locator(f"#district-panel-{HAIDIAN}")
    panel.wait_for(state="visible")
    assert page.evaluate("document.activeElement.textContent.trim()") == "海淀区"
    text = panel.inner_text()
    assert unit.name in text and "岳晓明" in text and "空缺" in text
    assert page.url.endswith("/info/map/"), "有脚本时在本页展开，不跳转"
