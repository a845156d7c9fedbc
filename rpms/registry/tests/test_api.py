"""GET /cities/{code}/pool (filters, scoping, public fields for district officers, constant
queries), GET /pool/{id} (dossier), POST /pool/{id}/remove, direct commission."""
import json

import pytest

from rpms.core.models import ActionLog
from rpms.registry.models import PoolStatus

from .factories import pool_member

pytestmark = pytest.mark.django_db

PERSONAL = ("id_number", "mobile", "email", "id_number_masked", "mobile_masked", "experience_years", "registrations")


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def pool(beijing, haidian, chaoyang):
    return {
        "planner": pool_member(beijing, "甲规划", districts=[haidian], specialties=["urban_rural_planning"]),
        "designer": pool_member(beijing, "乙设计", districts=[chaoyang], specialties=["urban_design", "landscape"],
                                title_level="intermediate", experience_years=3),
        "removed": pool_member(beijing, "丙调出", districts=[haidian], status=PoolStatus.REMOVED),
    }


def names(response):
    return sorted(item["name"] for item in response.json()["items"])


def test_city_administrators_filter_the_pool(anon, pool, city_admin, bearer):
    headers = bearer(city_admin)
    assert names(anon.get("/api/v1/cities/beijing/pool", **headers)) == ["乙设计", "甲规划"]  # the pool: active members
    assert names(anon.get("/api/v1/cities/beijing/pool?status=all", **headers)) == ["丙调出", "乙设计", "甲规划"]
    assert names(anon.get("/api/v1/cities/beijing/pool?status=removed", **headers)) == ["丙调出"]
    assert names(anon.get("/api/v1/cities/beijing/pool?status=active", **headers)) == ["乙设计", "甲规划"]
    assert names(anon.get("/api/v1/cities/beijing/pool?specialty=landscape", **headers)) == ["乙设计"]
    assert names(anon.get("/api/v1/cities/beijing/pool?district=110108&status=all", **headers)) == ["丙调出", "甲规划"]
    assert names(anon.get("/api/v1/cities/beijing/pool?district=110108&status=active", **headers)) == ["甲规划"]
    assert names(anon.get("/api/v1/cities/beijing/pool?title=deputy_senior&status=active", **headers)) == ["甲规划"]
    assert names(anon.get("/api/v1/cities/beijing/pool?experience_min=5&status=active", **headers)) == ["甲规划"]


def test_full_rows_mask_identifiers(anon, pool, city_admin, bearer):
    body = anon.get("/api/v1/cities/beijing/pool?status=all", **bearer(city_admin))
    assert body.json()["access"] == "full"
    text = body.content.decode()
    for planner in pool.values():
        assert planner.id_number not in text and planner.mobile not in text
    row = next(i for i in body.json()["items"] if i["name"] == "甲规划")
    assert row["id_number_masked"] == pool["planner"].id_number[:3] + "*" * 11 + pool["planner"].id_number[-4:]
    assert row["mobile_masked"].count("*") == 4


def test_district_officers_see_public_fields_only(anon, pool, district_haidian, bearer):
    body = anon.get("/api/v1/cities/beijing/pool?status=all", **bearer(district_haidian)).json()
    assert body["access"] == "public" and len(body["items"]) == 3
    for item in body["items"]:
        assert not set(PERSONAL) & set(item)
        assert {"name", "employer", "title", "specialties", "districts", "pool_status"} <= set(item)


def test_the_pool_of_another_city_and_other_roles_are_refused(anon, pool, pds_admin, street_office, planner_user, bearer):
    assert anon.get("/api/v1/cities/beijing/pool", **bearer(pds_admin)).status_code == 404
    assert anon.get("/api/v1/cities/beijing/pool", **bearer(street_office)).status_code == 403
    assert anon.get("/api/v1/cities/beijing/pool", **bearer(planner_user)).status_code == 403
    assert anon.get("/api/v1/cities/beijing/pool").status_code == 401


def test_unknown_filter_values_are_400_in_chinese(anon, pool, city_admin, bearer):
    response = anon.get("/api/v1/cities/beijing/pool?status=retired", **bearer(city_admin))
    assert response.status_code == 400 and "入库状态" in response.json()["detail"]


def test_removal_through_the_api(anon, pool, city_admin, bearer):
    headers = bearer(city_admin)
    planner = pool["planner"]
    unknown = post(anon, f"/api/v1/pool/{planner.pk}/remove", {"ground": "bored", "note": ""}, headers)
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_ground"
    done = post(anon, f"/api/v1/pool/{planner.pk}/remove", {"ground": "misconduct", "note": "泄露工作秘密"}, headers)
    assert done.status_code == 200 and done.json()["pool_status"] == "removed"
    again = post(anon, f"/api/v1/pool/{planner.pk}/remove", {"ground": "misconduct"}, headers)
    assert again.status_code == 409
    dossier = anon.get(f"/api/v1/pool/{planner.pk}", **headers).json()
    assert [(e["kind"], e["article"]) for e in dossier["events"]] == [("removed", "B16、B17")]
    assert planner.id_number not in json.dumps(dossier)


def test_removal_of_another_citys_planner_is_404(anon, pool, pds_admin, district_haidian, bearer):
    planner = pool["planner"]
    assert post(anon, f"/api/v1/pool/{planner.pk}/remove", {"ground": "violation"}, bearer(pds_admin)).status_code == 404
    assert post(anon, f"/api/v1/pool/{planner.pk}/remove", {"ground": "violation"}, bearer(district_haidian)).status_code == 403
    assert not ActionLog.objects.filter(action="registry.planner_remove").exists()


def test_direct_commission_through_the_api(anon, beijing, pingdingshan, city_admin, pds_admin, bearer):
    body = {"reason": "城市更新项目急需", "name": "委托专家", "specialties": ["urban_renewal"], "districts": ["110105"],
            "id_number": "", "title_level": "senior", "title_field": "urban_design", "experience_years": 15,
            "declarations": ["familiarity", "commitment"]}  # B18: checked like an application (issue #12)
    created = post(anon, "/api/v1/cities/beijing/pool/commission", body, bearer(city_admin))
    assert created.status_code == 201, created.content
    assert created.json()["events"][0]["article"] == "B19(1)" and created.json()["districts"] == ["110105"]
    refused = post(anon, "/api/v1/cities/pingdingshan/pool/commission", body | {"districts": []}, bearer(pds_admin))
    assert refused.status_code == 409


def test_the_pool_keeps_a_constant_query_count(anon, beijing, haidian, chaoyang, city_admin, bearer,
                                               django_assert_max_num_queries):
    headers = bearer(city_admin)
    pool_member(beijing, "起始", districts=[haidian])
    with django_assert_max_num_queries(15) as small:
        anon.get("/api/v1/cities/beijing/pool", **headers)
    for i in range(12):
        pool_member(beijing, f"规划师{i}", districts=[haidian, chaoyang])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = anon.get("/api/v1/cities/beijing/pool", **headers)
    assert response.json()["count"] == 13
