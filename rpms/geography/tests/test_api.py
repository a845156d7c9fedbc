import json

import pytest

from rpms.accounts.services import api_token_issue
from rpms.core.models import ActionLog
from rpms.geography.models import ResponsibilityUnit, Subdistrict
from rpms.geography.selectors import unit_list
from rpms.geography.services import divisions_load, unit_merge, units_create_default

from .helpers import BEIJING_ZONES_BY_DISTRICT, CHAOYANG, HAIDIAN, PINGDINGSHAN_GEOGRAPHY, subdistricts_of


def bearer(user):
    raw, _ = api_token_issue(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def send(client, method, path, user, body=None):
    kwargs = bearer(user)
    if method != "get":  # an empty body when there is none, as curl -X POST sends
        kwargs.update(data=json.dumps(body) if body is not None else "", content_type="application/json")
    return getattr(client, method)(path, **kwargs)


# --- public -------------------------------------------------------------------------------------------


def test_districts_endpoint_lists_code_name_and_zone_type(client, beijing_units):
    response = client.get("/api/v1/cities/beijing/districts")

    assert response.status_code == 200
    data = response.json()
    assert len(data) == 16
    assert data[0] == {"code": "110101", "name": "东城区", "zone_type": "core"}
    assert {d["code"]: d["zone_type"] for d in data} == BEIJING_ZONES_BY_DISTRICT


def test_districts_without_zone_type_give_null(client, pingdingshan):
    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)

    data = client.get("/api/v1/cities/pingdingshan/districts").json()

    assert [d["code"] for d in data] == ["410402", "410403", "410404", "410411", "410471", "410472"]
    assert {d["zone_type"] for d in data} == {None}


def test_units_endpoint_lists_id_name_district_and_subdistricts(client, beijing_units, haidian, city_admin):
    pair = subdistricts_of(haidian, 2)
    merged = unit_merge(actor=city_admin, subdistricts=pair, name="学院路片区")

    response = client.get(f"/api/v1/cities/beijing/units?district={HAIDIAN}")

    assert response.status_code == 200
    data = response.json()
    assert len(data) == 28
    assert all(set(item) == {"id", "name", "district", "subdistricts"} for item in data)
    assert {item["district"] for item in data} == {HAIDIAN}
    entry = next(item for item in data if item["id"] == merged.pk)
    assert entry["name"] == "学院路片区"
    assert entry["subdistricts"] == [{"code": s.code, "name": s.name} for s in pair]
    assert len(client.get("/api/v1/cities/beijing/units").json()) == 348


def test_coverage_endpoint_counts_units_and_lists_the_uncovered(client, beijing_units, haidian, city_admin):
    unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 2), name="学院路片区")

    response = client.get("/api/v1/cities/beijing/coverage")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"units", "covered", "uncovered"}
    assert data["units"] == 348 and data["covered"] == 0
    assert len(data["uncovered"]) == 348
    assert set(data["uncovered"][0]) == {"id", "name", "district"}
    assert {u["id"] for u in data["uncovered"]} == set(
        ResponsibilityUnit.objects.filter(dissolved_at__isnull=True).values_list("id", flat=True)
    )


def test_unknown_city_gives_404_in_chinese(client, beijing_units):
    for path in ("districts", "units", "coverage"):
        response = client.get(f"/api/v1/cities/atlantis/{path}")
        assert response.status_code == 404
        assert response.json()["code"] == "city_not_found"
        assert "城市" in response.json()["message"]


def test_unknown_district_gives_404_in_chinese(client, beijing_units):
    response = client.get("/api/v1/cities/beijing/units?district=410402")
    assert response.status_code == 404
    assert response.json()["code"] == "district_not_found"
    assert "区划代码" in response.json()["message"]


def test_public_units_query_count_does_not_grow(client, beijing_units, pingdingshan, django_assert_max_num_queries):
    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)
    units_create_default(actor=None, city=pingdingshan)
    for code in ("pingdingshan", "beijing"):
        with django_assert_max_num_queries(4):
            assert client.get(f"/api/v1/cities/{code}/units").status_code == 200
        with django_assert_max_num_queries(4):
            assert client.get(f"/api/v1/cities/{code}/coverage").status_code == 200


# --- management -----------------------------------------------------------------------------------------


@pytest.fixture
def haidian_unit(beijing_units):
    return unit_list(city=beijing_units, district_code=HAIDIAN)[0]


@pytest.fixture
def chaoyang_unit(beijing_units):
    return unit_list(city=beijing_units, district_code=CHAOYANG)[0]


def test_haidian_officer_reads_a_haidian_unit(client, haidian_unit, haidian_officer):
    response = send(client, "get", f"/api/v1/units/{haidian_unit.pk}", haidian_officer)

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == haidian_unit.pk and data["district"] == {"code": HAIDIAN, "name": "海淀区"}
    assert data["active"] is True
    assert [s["code"] for s in data["subdistricts"]] == [s.code for s in haidian_unit.current_subdistricts]
    assert data["subdistricts"][0]["zone_type"] == "central"
    assert len(data["memberships"]) == 1 and data["memberships"][0]["left_at"] is None
    assert [h["action"] for h in data["history"]] == ["geography.units_create_default"]


def test_haidian_officer_gets_404_for_a_chaoyang_unit(client, chaoyang_unit, haidian_officer):
    response = send(client, "get", f"/api/v1/units/{chaoyang_unit.pk}", haidian_officer)

    assert response.status_code == 404
    assert response.json()["message"] == "记录不存在或您无权查看。"


def test_an_auditor_reads_any_unit_of_the_city(client, chaoyang_unit, auditor):
    assert send(client, "get", f"/api/v1/units/{chaoyang_unit.pk}", auditor).status_code == 200


def test_a_planner_gets_403_on_the_management_api(client, haidian_unit, planner_user, haidian):
    codes = [s.code for s in subdistricts_of(haidian, 2)]
    assert send(client, "get", f"/api/v1/units/{haidian_unit.pk}", planner_user).status_code == 403
    response = send(client, "post", "/api/v1/units/merge", planner_user, {"subdistricts": codes, "name": "x"})
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色无权执行此操作。"
    assert send(client, "post", f"/api/v1/units/{haidian_unit.pk}/split", planner_user).status_code == 403


def test_management_api_needs_a_login(client, haidian_unit):
    response = client.get(f"/api/v1/units/{haidian_unit.pk}")
    assert response.status_code == 401
    assert "登录" in response.json()["message"]


def test_merge_through_the_api(client, beijing_units, haidian, haidian_officer):
    codes = [s.code for s in subdistricts_of(haidian, 3)]

    response = send(client, "post", "/api/v1/units/merge", haidian_officer, {"subdistricts": codes, "name": "学院路片区"})

    assert response.status_code == 201
    data = response.json()
    assert data["name"] == "学院路片区"
    assert [s["code"] for s in data["subdistricts"]] == codes
    assert [h["action"] for h in data["history"]] == ["geography.unit_merge"]
    assert ActionLog.objects.filter(action="geography.unit_merge").count() == 1


def test_merge_across_districts_through_the_api_is_400_and_leaves_nothing(client, beijing_units, haidian, chaoyang, city_admin):
    codes = [subdistricts_of(haidian, 1)[0].code, subdistricts_of(chaoyang, 1)[0].code]
    units_before = ResponsibilityUnit.objects.count()

    response = send(client, "post", "/api/v1/units/merge", city_admin, {"subdistricts": codes, "name": "跨区"})

    assert response.status_code == 400
    assert response.json()["code"] == "mixed_districts"
    assert ResponsibilityUnit.objects.count() == units_before
    assert not ActionLog.objects.filter(action="geography.unit_merge").exists()


def test_merge_of_chaoyang_subdistricts_by_a_haidian_officer_is_404(client, beijing_units, chaoyang, haidian_officer):
    codes = [s.code for s in subdistricts_of(chaoyang, 2)]
    response = send(client, "post", "/api/v1/units/merge", haidian_officer, {"subdistricts": codes, "name": "朝阳"})
    assert response.status_code == 404


def test_merge_with_unknown_codes_is_400_in_chinese(client, beijing_units, city_admin):
    response = send(client, "post", "/api/v1/units/merge", city_admin, {"subdistricts": ["1", "2"], "name": "x"})
    assert response.status_code == 400
    assert "街道乡镇代码不存在" in response.json()["message"]


def test_merge_with_a_malformed_body_is_422_in_chinese(client, beijing_units, city_admin):
    response = send(client, "post", "/api/v1/units/merge", city_admin, {"name": "x"})
    assert response.status_code == 422
    assert "请求参数有误" in response.json()["message"]


def test_split_through_the_api_default_and_grouped(client, beijing_units, haidian, haidian_officer):
    a, b, c = subdistricts_of(haidian, 3)
    unit = unit_merge(actor=haidian_officer, subdistricts=[a, b, c], name="三合一")

    response = send(client, "post", f"/api/v1/units/{unit.pk}/split", haidian_officer,
                    {"groups": [[a.code, b.code], [c.code]]})

    assert response.status_code == 200
    data = response.json()
    assert sorted(len(u["subdistricts"]) for u in data) == [1, 2]
    pair = next(u for u in data if len(u["subdistricts"]) == 2)
    response = send(client, "post", f"/api/v1/units/{pair['id']}/split", haidian_officer)
    assert response.status_code == 200
    assert sorted(u["name"] for u in response.json()) == sorted([a.name, b.name])
    assert ActionLog.objects.filter(action="geography.unit_split").count() == 2


def test_split_of_a_chaoyang_unit_by_a_haidian_officer_is_404(client, beijing_units, chaoyang, city_admin, haidian_officer):
    unit = unit_merge(actor=city_admin, subdistricts=subdistricts_of(chaoyang, 2), name="朝阳甲乙")
    response = send(client, "post", f"/api/v1/units/{unit.pk}/split", haidian_officer)
    assert response.status_code == 404
    unit.refresh_from_db()
    assert unit.is_active


def test_rename_through_the_api(client, haidian_unit, haidian_officer):
    response = send(client, "patch", f"/api/v1/units/{haidian_unit.pk}", haidian_officer, {"name": "新名字"})
    assert response.status_code == 200 and response.json()["name"] == "新名字"


def test_zone_type_override_through_the_api(client, beijing_units, city_admin):
    path = "/api/v1/units/subdistricts/110111110/zone-type"

    response = send(client, "patch", path, city_admin, {"zone_type": "eco_conservation"})

    assert response.status_code == 200
    assert response.json() == {"code": "110111110", "name": "张坊镇", "district": "110111",
                               "zone_type_override": "eco_conservation", "zone_type": "eco_conservation"}
    response = send(client, "patch", path, city_admin, {"zone_type": None})
    assert response.json()["zone_type_override"] is None and response.json()["zone_type"] == "multi_point"


def test_unknown_zone_type_through_the_api_is_400_in_chinese(client, beijing_units, city_admin):
    response = send(client, "patch", "/api/v1/units/subdistricts/110111110/zone-type", city_admin, {"zone_type": "hills"})

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_zone_type"
    assert "功能区类型“hills”不在北京市的政策配置中" in response.json()["message"]
    assert Subdistrict.objects.get(code="110111110").zone_type_override == ""


def test_zone_type_override_is_403_for_a_district_officer(client, beijing_units, haidian_officer):
    response = send(client, "patch", "/api/v1/units/subdistricts/110108001/zone-type", haidian_officer,
                    {"zone_type": "core"})
    assert response.status_code == 403


def test_zone_type_override_of_an_unknown_subdistrict_is_404(client, beijing_units, city_admin):
    response = send(client, "patch", "/api/v1/units/subdistricts/999/zone-type", city_admin, {"zone_type": "core"})
    assert response.status_code == 404
    assert "999" in response.json()["message"]
