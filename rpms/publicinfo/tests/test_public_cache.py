"""Issue #15: what the public sees is served from the shared cache (rpms.publicinfo.pagecache, rpms.core.pubcache)
and is never stale after an act that changes it (rpms.publicinfo.invalidation): a filed appointment appears
at once, an ended one disappears, a published reply appears, the open data is regenerated. A cached page costs
(almost) no query; the pages that are built have a query count that does not grow with the data."""
import datetime as dt

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from rpms.appointments.selectors import coverage_by_district
from rpms.core import clock
from rpms.geography.models import ResponsibilityUnit
from rpms.publicinfo import opendata, selectors

from .conftest import make_planner

pytestmark = pytest.mark.django_db


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main"):html.index("</main>")]


def _queries(client, path, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, path
    return response, len(captured.captured_queries)


def _listed(html: str) -> int:
    """How many units the page's unit list shows."""
    start = html.index('<ul class="unit-list">')
    return html[start:html.index("</ul>", start)].count("<li>")


def _units(district):
    return list(ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True).order_by("id"))


def _end(appointment, actor):
    from django.db import transaction

    from rpms.appointments.services import appointment_end_record

    with transaction.atomic():
        appointment_end_record(actor=actor, appointment=appointment, last_day=clock.today() - dt.timedelta(days=1),
                               kind="termination", reason="缓存测试：解除聘用")


# --- find my planner ----------------------------------------------------------------------------------------


def test_a_filed_appointment_appears_on_the_cached_find_page_at_once(anon, beijing, wanshou, appoint):
    first = _main(anon.get("/find/", {"q": "万寿"}))
    assert "暂无责任规划师" in first
    again, queries = _queries(anon, "/find/", {"q": "万寿"})
    assert _main(again) == first and queries <= 1  # served from the cache (the anonymous session: no query)

    appointment = appoint(wanshou, make_planner(beijing, "缓存测试规划师"))  # proposed, approved, filed: services

    main = _main(anon.get("/find/", {"q": "万寿"}))
    assert "缓存测试规划师" in main and "暂无责任规划师" not in main
    assert f"聘期：{appointment.start.isoformat()} 至 {appointment.end.isoformat()}" in main


def test_an_ended_appointment_disappears_from_the_cached_find_page(anon, beijing, wanshou, appoint, city_admin):
    appointment = appoint(wanshou, make_planner(beijing, "将离任测试规划师"), start=clock.today() - dt.timedelta(days=5))
    assert "将离任测试规划师" in _main(anon.get("/find/", {"q": "万寿"}))
    assert "将离任测试规划师" in _main(anon.get("/find/", {"q": "万寿"}))  # cached

    _end(appointment, city_admin)

    main = _main(anon.get("/find/", {"q": "万寿"}))
    assert "将离任测试规划师" not in main and "暂无责任规划师" in main


def test_the_cached_find_page_is_per_search_and_city(anon, beijing, wanshou):
    assert "万寿路街道" in _main(anon.get("/find/", {"q": "万寿"}))
    other = _main(anon.get("/find/", {"q": "学院"}))
    assert "万寿路街道" not in other and "学院路街道" in other
    assert "万寿路街道" not in _main(anon.get("/find/", {"q": "万寿", "city": "pingdingshan"}))
    assert "万寿路街道" in _main(anon.get("/find/", {"q": "  万寿 "}))  # the same normalised search


def test_a_signed_in_visitor_never_gets_the_anonymous_page(client, anon, city_admin, beijing, wanshou):
    anon_html = anon.get("/find/", {"q": "万寿"}).content.decode()
    assert city_admin.display_name not in anon_html
    client.force_login(city_admin)
    html = client.get("/find/", {"q": "万寿"}).content.decode()
    assert city_admin.display_name in html and "退出登录" in html
    assert "退出登录" not in anon.get("/find/", {"q": "万寿"}).content.decode()


def test_the_cached_page_follows_the_day(anon, beijing, wanshou, appoint, clock):
    appoint(wanshou, make_planner(beijing, "下周到任测试规划师"), start=clock.today + dt.timedelta(days=7))
    main = _main(anon.get("/find/", {"q": "万寿"}))
    assert "下周到任测试规划师" in main and "待到任" in main
    clock.advance(days=8)  # nothing happened, but the appointment is in force now
    main = _main(anon.get("/find/", {"q": "万寿"}))
    assert "下周到任测试规划师" in main and "待到任" not in main


# --- the unit's public pages ----------------------------------------------------------------------------------


def test_a_published_reply_appears_on_the_cached_unit_pages(anon, beijing, wanshou, appoint):
    from rpms.suggestions import services as suggestion_services

    planner = make_planner(beijing, "答复缓存测试规划师")
    appoint(wanshou, planner)
    suggestion = suggestion_services.suggestion_submit(
        actor=None, unit=wanshou, category="suggestion", content="建议在街心公园增加儿童游乐设施，谢谢。")
    page = f"/suggestions/units/{wanshou.pk}/"
    assert "建议在街心公园增加儿童游乐设施" in anon.get(page).content.decode()
    _, queries = _queries(anon, page)
    assert queries <= 1
    assert "已列入今年的改造计划" not in _main(anon.get("/find/", {"q": "万寿"}))

    suggestion_services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="已列入今年的改造计划。")

    assert "已列入今年的改造计划。" in anon.get(page).content.decode()
    assert "已列入今年的改造计划。" in _main(anon.get("/find/", {"q": "万寿"}))


def test_the_public_unit_page_and_api_are_cached_and_follow_the_acts(anon, beijing, wanshou, appoint, city_admin):
    from django.urls import reverse

    api = f"/api/v1/public/units/{wanshou.pk}"
    page = reverse("appointments:public_unit", args=[wanshou.pk])
    assert anon.get(api).json()["appointments"] == []
    anon.get(page)
    _, page_queries = _queries(anon, page)
    _, api_queries = _queries(anon, api)
    assert page_queries <= 1 and api_queries <= 1

    appointment = appoint(wanshou, make_planner(beijing, "单元页缓存测试规划师"))
    assert [c["planner_name"] for c in anon.get(api).json()["appointments"]] == ["单元页缓存测试规划师"]
    assert "单元页缓存测试规划师" in anon.get(page).content.decode()

    _end(appointment, city_admin)
    assert anon.get(api).json()["appointments"] == []
    assert "单元页缓存测试规划师" not in anon.get(page).content.decode()
    assert anon.get("/api/v1/public/units/999999").status_code == 404


# --- open data ------------------------------------------------------------------------------------------------


def test_open_data_is_cached_and_regenerated_after_an_act(anon, beijing, wanshou, appoint):
    csv_path, json_path = "/api/v1/public/appointments.csv", "/api/v1/public/appointments.json"
    before = anon.get(csv_path, {"city": "beijing"}).content.decode("utf-8-sig")
    rows_before = anon.get(json_path, {"city": "beijing"}).json()["rows"]
    again, queries = _queries(anon, csv_path, {"city": "beijing"})
    assert again.content.decode("utf-8-sig") == before and queries <= 2  # the city filter; the file is cached
    _, queries = _queries(anon, json_path, {"city": "beijing"})
    assert queries <= 2

    appoint(wanshou, make_planner(beijing, "开放数据缓存测试规划师"))

    after = anon.get(csv_path, {"city": "beijing"}).content.decode("utf-8-sig")
    assert "开放数据缓存测试规划师" not in before and "开放数据缓存测试规划师" in after
    rows = anon.get(json_path, {"city": "beijing"}).json()["rows"]
    assert len(rows) == len(rows_before) + 1 and any(r["planner"] == "开放数据缓存测试规划师" for r in rows)
    # the file of every city (no filter) depends on every city's acts too
    assert "开放数据缓存测试规划师" in anon.get(csv_path).content.decode("utf-8-sig")


def test_a_large_open_data_file_is_streamed_while_generated_then_served_whole(anon, beijing, wanshou, appoint,
                                                                              monkeypatch):
    appoint(wanshou, make_planner(beijing, "流式输出测试规划师"))
    whole = anon.get("/api/v1/public/appointments.csv").content
    monkeypatch.setattr(opendata, "STREAM_ROWS", 0)
    monkeypatch.setattr(opendata, "_STREAM_CHUNK_ROWS", 1)
    appoint(_units(wanshou.district)[1], make_planner(beijing, "第二位流式测试规划师"))  # stale: generate again

    streamed = anon.get("/api/v1/public/appointments.csv")
    assert isinstance(streamed, StreamingHttpResponse)
    body = b"".join(streamed.streaming_content)
    assert body.startswith("\ufeff".encode()) and "第二位流式测试规划师".encode() in body
    assert body.count(b"\r\n") == whole.count(b"\r\n") + 1
    assert streamed["Content-Disposition"].startswith('attachment; filename="appointments.csv"')

    cached = anon.get("/api/v1/public/appointments.csv")
    assert not cached.streaming and cached.content == body


def test_open_data_rows_read_the_policy_once_per_city(beijing, wanshou, appoint, django_assert_max_num_queries):
    from rpms.appointments.selectors import open_data_rows, public_card, public_queryset

    team = make_planner(beijing, "开放数据团队", kind="team", leader_name="李负责人", members=[
        {"name": "核心甲", "specialty": "urban_rural_planning", "is_core": True},
        {"name": "非核心乙", "specialty": "", "is_core": False},
    ])
    appoint(wanshou, team)
    for unit in _units(wanshou.district)[1:4]:
        appoint(unit)
    with django_assert_max_num_queries(4):  # appointments, memberships, core members, (the policy, once)
        rows = open_data_rows(city=beijing, base_url="https://example.invalid")
    cards = {a.pk: public_card(a) for a in public_queryset(city=beijing)}
    assert len(rows) == len(cards) == 4
    team_row = next(r for r in rows if r["planner"] == "开放数据团队")
    card = next(c for c in cards.values() if c["planner_name"] == "开放数据团队")
    assert team_row["core_members"] == "、".join(f"{m['name']}（{m['specialty_label']}）" for m in card["core_members"])
    assert team_row["url"] == "https://example.invalid" + card["contact_url"]
    assert (team_row["status"], team_row["end"], team_row["leader"]) == (card["status_label"], card["last_day"], "李负责人")


# --- the map --------------------------------------------------------------------------------------------------


def test_the_map_counts_equal_the_coverage_definition_and_follow_the_acts(anon, beijing, haidian, appoint, city_admin):
    units = _units(haidian)
    first = appoint(units[0])
    appoint(units[1])
    coverage = {dc.district.pk: (dc.total, dc.covered) for dc in selectors.city_coverage(beijing).districts}
    expected = coverage_by_district(city=beijing)
    assert coverage[haidian.pk] == (expected[haidian.pk]["units"], expected[haidian.pk]["covered"]) == (len(units), 2)
    html = anon.get("/info/map/").content.decode()
    assert f"责任单元 {len(units)} 个，已覆盖 2 个" in html
    assert anon.get("/info/map/").content.decode() == html  # cached

    _end(first, city_admin)
    assert f"责任单元 {len(units)} 个，已覆盖 1 个" in anon.get("/info/map/").content.decode()


def test_the_city_map_lists_districts_only_and_a_district_pages_its_units(anon, beijing, haidian, appoint, monkeypatch):
    units = _units(haidian)
    html = anon.get("/info/map/").content.decode()
    assert '<ul class="unit-list">' not in html  # the units are loaded on demand
    assert 'data-units-src="/info/map/110108/units/"' in html

    monkeypatch.setattr(selectors, "DISTRICT_UNITS_PAGE_SIZE", 5)
    pages = -(-len(units) // 5)
    first = anon.get("/info/map/110108/").content.decode()
    assert _listed(first) == 5 and f"第 1 / {pages} 页（共 {len(units)} 个责任单元）" in first
    assert 'href="/info/map/110108/?page=2">下一页</a>' in first
    last = anon.get("/info/map/110108/", {"page": pages}).content.decode()
    assert _listed(last) == len(units) - 5 * (pages - 1) and "上一页" in last
    fragment = anon.get("/info/map/110108/units/").content.decode()
    assert "<html" not in fragment and _listed(fragment) == 5
    assert anon.get("/info/map/999999/units/").status_code == 404


# --- query counts -----------------------------------------------------------------------------------------------


def test_public_pages_cost_the_same_queries_at_two_sizes_and_almost_none_when_cached(
    anon, client, beijing, haidian, appoint, city_admin
):
    units = _units(haidian)
    pages = [("/info/map/", {}), ("/info/map/110108/", {}), ("/info/map/110108/units/", {}),
             ("/find/", {"q": "路"}), (f"/api/v1/public/units/{units[0].pk}", {}),
             ("/api/v1/public/appointments.csv", {}), ("/api/v1/public/units.json", {"city": "beijing"}),
             ("/api/v1/public/coverage.json", {"city": "beijing"}), ("/api/v1/cities/beijing/coverage", {}),
             ("/api/v1/cities/beijing/units", {})]
    for path, params in pages:  # the shared policy profile and lists of cities are cached from the first page on
        anon.get(path, params)
    appoint(units[0])

    def measure():
        built = {path: _queries(anon, path, params)[1] for path, params in pages}
        cached = {path: _queries(anon, path, params)[1] for path, params in pages}
        return built, cached

    few, few_cached = measure()
    for unit in units[1:7]:
        appoint(unit)
    many, many_cached = measure()
    assert many == few
    for path in ("/info/map/", "/info/map/110108/", "/find/", f"/api/v1/public/units/{units[0].pk}"):
        assert few_cached[path] <= 1 and many_cached[path] <= 1, path
    assert many_cached["/api/v1/public/appointments.csv"] <= 1

    client.force_login(city_admin)

    def home():
        """(queries of the city home computing its coverage, queries of the next visit that reads it kept)."""
        from rpms.core import pubcache

        client.get("/")  # the shared cache warm (policy, vocabulary)
        pubcache.bump(pubcache.public_scope(beijing.pk))
        with CaptureQueriesContext(connection) as built:
            assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as kept:
            assert client.get("/").status_code == 200
        return len(built.captured_queries), len(kept.captured_queries)

    home_few = home()
    for unit in units[7:12]:
        appoint(unit)
    home_many = home()
    assert home_many == home_few and home_few[1] < home_few[0]


def test_the_coverage_api_bounds_its_list_and_links_to_the_paged_units(anon, beijing, haidian, monkeypatch):
    from rpms.geography import selectors as geography_selectors

    monkeypatch.setattr(geography_selectors, "UNITS_PAGE_SIZE", 10)
    response = anon.get("/api/v1/cities/beijing/coverage", {"district": "110108"})
    data = response.json()
    total = len(_units(haidian))
    assert set(data) == {"units", "covered", "uncovered"} and data["units"] == total
    assert len(data["uncovered"]) == 10 and response["X-Uncovered-Count"] == str(total)
    assert response["Link"] == '</api/v1/cities/beijing/units?uncovered=1&district=110108>; rel="related"'

    listed, page = [], 1
    while True:
        response = anon.get("/api/v1/cities/beijing/units", {"uncovered": 1, "district": "110108", "page": page})
        assert response["X-Total-Count"] == str(total)
        listed += [u["id"] for u in response.json()]
        if 'rel="next"' not in response.get("Link", ""):
            break
        page += 1
    assert listed == [u.pk for u in sorted(_units(haidian), key=lambda u: (u.name, u.pk))]


def test_the_city_home_names_the_first_uncovered_units_of_each_district(client, city_admin, beijing, haidian):
    from rpms.appointments.selectors import uncovered_by_district

    client.force_login(city_admin)
    html = client.get("/").content.decode()
    groups = uncovered_by_district(beijing, limit=12)
    full = {g["district"].pk: g for g in uncovered_by_district(beijing)}
    haidian_group = next(g for g in groups if g["district"].pk == haidian.pk)
    assert len(haidian_group["units"]) == 12 and haidian_group["uncovered"] == len(full[haidian.pk]["units"])
    assert [u.pk for u in haidian_group["units"]] == [u.pk for u in full[haidian.pk]["units"][:12]]
    assert f"等 {haidian_group['uncovered']} 个" in html and "?district=110108\">查看全部</a>" in html


def test_the_city_home_coverage_is_kept_and_follows_an_appointment_at_once(client, beijing, wanshou, appoint, city_admin):
    """The city administrator's home keeps its coverage figures in the public scope (issue #15: every visit walked
    the city's units); a new appointment shows at once."""
    client.force_login(city_admin)
    before = client.get("/").context["coverage"]
    assert wanshou in before["uncovered_units"] or before["uncovered"] > len(before["uncovered_units"])
    _, kept = _queries(client, "/")
    appoint(wanshou, make_planner(beijing, "首页覆盖测试规划师"))
    after, rebuilt = _queries(client, "/")
    coverage = after.context["coverage"]
    assert coverage["covered"] == before["covered"] + 1 and wanshou not in coverage["uncovered_units"]
    assert rebuilt > kept  # kept before the act, computed again after it
