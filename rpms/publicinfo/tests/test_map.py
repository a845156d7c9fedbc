"""The coverage map (一张图, B4): Beijing's 16 districts drawn as inline SVG from the shipped outlines,
each filled by its coverage ratio; a district's units with their planners or "空缺"; the same data as a
table; Pingdingshan (no outlines shipped) as a table only."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.geography.models import District, ResponsibilityUnit
from rpms.publicinfo import geo, selectors

from .conftest import SECRET_ID, SECRET_MOBILE, make_planner

pytestmark = pytest.mark.django_db

PATH_RE = re.compile(r'<a href="/info/map/(\d+)/" data-district="\d+" aria-label="([^"]*)"><title>[^<]*</title>'
                     r'<path class="district" data-band="(\w+)" d="(M[^"]+)" fill="(#[0-9a-f]{6})"/></a>')


def _paths(html: str) -> dict[str, dict]:
    return {m.group(1): {"label": m.group(2), "band": m.group(3), "d": m.group(4), "fill": m.group(5)}
            for m in PATH_RE.finditer(html)}


def _active_units(district):
    return list(ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
                .select_related("district", "city__policy").order_by("id"))


def test_the_map_draws_16_districts_filled_by_their_coverage(anon, beijing, haidian, appoint):
    units = _active_units(haidian)
    appoint(units[0])
    # the district with the fewest units is covered completely
    smallest = min((d for d in District.objects.filter(city=beijing) if _active_units(d)), key=lambda d: len(_active_units(d)))
    for unit in _active_units(smallest):
        appoint(unit)

    response = anon.get("/info/map/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<path class="district"') == 16
    paths = _paths(html)
    assert len(paths) == 16 and set(paths) == set(District.objects.filter(city=beijing).values_list("code", flat=True))
    assert all(p["d"].count("Z") >= 1 for p in paths.values())

    expected_haidian = selectors.coverage_band(len(units), 1)
    assert paths["110108"]["fill"] == expected_haidian.fill and paths["110108"]["band"] == expected_haidian.code
    assert f"责任单元 {len(units)} 个，已覆盖 1 个" in paths["110108"]["label"]
    assert paths[smallest.code]["fill"] == "#253494" and paths[smallest.code]["band"] == "full"
    untouched = next(code for code in paths if code not in ("110108", smallest.code))
    assert paths[untouched]["band"] == "zero" and paths[untouched]["fill"] == "#ffffcc"
    # the legend and the accessible table carry the same data
    assert "全覆盖（100%）" in html and "<caption>各区责任单元及覆盖率（与地图为同一数据）</caption>" in html
    assert '<script src="/static/publicinfo/map.js" defer></script>' in html


def test_each_district_links_to_its_drill_down_page_without_script(anon, beijing):
    html = anon.get("/info/map/").content.decode()
    assert '<a href="/info/map/110108/" data-district="110108"' in html
    assert 'id="district-panel-110108"' in html  # the panel the script shows in place


def test_district_drill_down_lists_units_with_their_planner_or_vacant(anon, haidian, wanshou, appoint):
    planner = make_planner(haidian.city, "海淀测试规划师", id_number=SECRET_ID, mobile=SECRET_MOBILE)
    appoint(wanshou, planner)
    response = anon.get("/info/map/110108/")
    html = response.content.decode()
    assert response.status_code == 200
    units = _active_units(haidian)
    assert html.count('<ul class="unit-list">') == 1
    assert html.count("<li>") >= len(units)
    wanshou_line = html[html.index(wanshou.name):]
    assert "海淀测试规划师" in wanshou_line[:400]
    assert html.count('<span class="vacant">空缺</span>') == len(units) - 1
    assert SECRET_ID not in html and SECRET_MOBILE not in html


def test_an_appointment_not_yet_filed_covers_the_unit_without_naming_the_planner(anon, haidian, wanshou, appoint):
    appointment = appoint(wanshou, filed=False)
    html = anon.get("/info/map/110108/").content.decode()
    line = html[html.index(wanshou.name):][:400]
    assert "已派驻（聘用信息待备案公开）" in line and appointment.planner.name not in html


def test_unknown_district_is_404(anon, beijing):
    assert anon.get("/info/map/999999/").status_code == 404


def test_pingdingshan_shows_the_table_only(anon, pingdingshan):
    response = anon.get("/info/map/", {"city": "pingdingshan"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" not in html and "map.js" not in html
    assert "暂无区界底图" in html
    for name in District.objects.filter(city=pingdingshan).values_list("name", flat=True):
        assert f'<th scope="row">{name}</th>' in html


def test_outlines_are_projected_once_and_only_for_districts_that_have_one(beijing, pingdingshan):
    codes = list(District.objects.filter(city=beijing).values_list("code", flat=True))
    outline = geo.outline_for(codes)
    assert len(outline.shapes) == 16 and outline.width == geo.MAP_WIDTH
    assert geo.outline_for(codes) is outline  # cached
    for shape in outline.shapes:
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", shape.path)]
        assert all(0 <= n <= max(outline.width, outline.height) for n in numbers)
    assert geo.outline_for(District.objects.filter(city=pingdingshan).values_list("code", flat=True)) is None


def test_map_query_count_does_not_grow_with_appointments(anon, beijing, haidian, appoint):
    units = _active_units(haidian)
    appoint(units[0])
    with CaptureQueriesContext(connection) as few:
        assert anon.get("/info/map/").status_code == 200
    for unit in units[1:6]:
        appoint(unit)
    with CaptureQueriesContext(connection) as many:
        assert anon.get("/info/map/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
