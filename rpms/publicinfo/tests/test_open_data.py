"""Open data (开放数据): one page listing the datasets; each dataset as CSV and JSON with a field
dictionary; no personal data anywhere."""
import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.geography.models import District, ResponsibilityUnit
from rpms.publicinfo import opendata, services

from .conftest import SECRET_ID, SECRET_MOBILE, make_planner

# A second person (one record per person and city in the registry).
SECRET_ID_2, SECRET_MOBILE_2 = "110108199202021234", "13912345679"

pytestmark = pytest.mark.django_db

DATASETS = ("units", "coverage", "notices", "honours", "suggestion-stats")
CONTACT_PHONE = "13712349876"


@pytest.fixture
def published_world(beijing, wanshou, appoint, city_admin):
    """A filed appointment, a published announcement and answered / unanswered suggestions."""
    from rpms.suggestions import services as suggestion_services

    planner = make_planner(beijing, "开放数据测试规划师", id_number=SECRET_ID, mobile=SECRET_MOBILE)
    appoint(wanshou, planner)
    announcement = services.announcement_create(actor=city_admin, city=beijing, kind="appointment_list",
                                                title="开放数据测试公告", body="正文")
    services.announcement_publish(actor=city_admin, announcement=announcement)
    answered = suggestion_services.suggestion_submit(
        actor=None, unit=wanshou, category="suggestion", content="建议增加社区公共座椅，方便居民休息。",
        contact_name="李居民", contact_phone=CONTACT_PHONE,
    )
    suggestion_services.suggestion_reply(actor=planner.user, suggestion=answered, text="已纳入街区更新计划。")
    suggestion_services.suggestion_submit(actor=None, unit=wanshou, category="problem",
                                          content="路灯损坏已有一周，晚上出行不便。")
    return {"planner": planner, "announcement": announcement}


def test_every_dataset_has_json_csv_and_a_field_dictionary(anon, published_world, published_honour):
    for slug in DATASETS:
        fields = anon.get(f"/api/v1/public/{slug}/fields")
        assert fields.status_code == 200, slug
        names = [f["name"] for f in fields.json()["fields"]]
        assert names and all(f["label"] and f["description"] for f in fields.json()["fields"])
        data = anon.get(f"/api/v1/public/{slug}.json").json()
        assert [f["name"] for f in data["fields"]] == names
        assert data["rows"], slug
        assert all(set(row) == set(names) for row in data["rows"]), slug
        response = anon.get(f"/api/v1/public/{slug}.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff")
        header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert header == [f["label"] for f in data["fields"]]


def test_no_dataset_carries_personal_data(anon, published_world, published_honour):
    for slug in DATASETS + ("appointments",):
        for suffix in (".json", ".csv"):
            body = anon.get(f"/api/v1/public/{slug}{suffix}").content.decode("utf-8")
            for secret in (SECRET_ID, SECRET_MOBILE, SECRET_ID_2, SECRET_MOBILE_2, CONTACT_PHONE, "李居民", "公共座椅", "路灯损坏"):
                assert secret not in body, (slug, suffix, secret)


def test_units_dataset_marks_covered_and_vacant_units(anon, published_world, wanshou):
    rows = anon.get("/api/v1/public/units.json", {"city": "beijing", "district": "110108"}).json()["rows"]
    by_id = {row["unit_id"]: row for row in rows}
    assert by_id[wanshou.pk]["covered"] == "是" and by_id[wanshou.pk]["planners"] == "开放数据测试规划师"
    others = [row for row in rows if row["unit_id"] != wanshou.pk]
    assert others and all(row["covered"] == "否" and row["status"] == "空缺" for row in others)
    assert {row["district_code"] for row in rows} == {"110108"}


def test_coverage_dataset_gives_each_districts_ratio(anon, published_world, haidian):
    rows = anon.get("/api/v1/public/coverage.json", {"city": "beijing"}).json()["rows"]
    assert len(rows) == District.objects.filter(city=haidian.city).count()
    row = next(r for r in rows if r["district_code"] == "110108")
    total = ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True).count()
    assert row["units"] == total and row["covered"] == 1 and row["vacant"] == total - 1
    assert row["ratio"] == round(1 / total, 4)


def test_suggestion_statistics_count_without_content(anon, published_world, wanshou):
    rows = anon.get("/api/v1/public/suggestion-stats.json", {"city": "beijing"}).json()["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row["unit_id"] == wanshou.pk and row["received"] == 2 and row["answered"] == 1
    assert row["answered_on_time"] == 1 and row["overdue"] == 0 and len(row["month"]) == 7


def test_notices_dataset_lists_the_published_announcement(anon, published_world):
    rows = anon.get("/api/v1/public/notices.json").json()["rows"]
    assert any(r["title"] == "开放数据测试公告" and r["kind"] == "appointment_list" for r in rows)


def test_unknown_city_or_bad_year_is_refused_in_chinese(anon, beijing):
    response = anon.get("/api/v1/public/units.json", {"city": "atlantis"})
    assert response.status_code == 404 and "不存在" in response.json()["message"]
    response = anon.get("/api/v1/public/suggestion-stats.json", {"year": "20x6"})
    assert response.status_code == 400 and "年份" in response.json()["message"]


def test_the_catalogue_and_the_open_data_page_list_every_dataset(anon, beijing):
    catalogue = anon.get("/api/v1/public/datasets").json()["datasets"]
    slugs = [d["dataset"] for d in catalogue]
    assert slugs == ["appointments", "units", "coverage", "notices", "honours", "suggestion-stats"]
    html = anon.get("/info/open-data/").content.decode()
    for dataset in opendata.datasets():
        assert dataset.title in html
        if dataset.available:
            assert f'href="{dataset.csv_url}"' in html and f'href="{dataset.json_url}"' in html
        for name, _label, _description in dataset.fields:
            assert f"<code class=\"api\">{name}</code>" in html


@pytest.fixture
def published_honour(beijing, wanshou, appoint, city_admin, district_haidian, street_office, clock):
    """A Beijing planner assessed 优秀 near the end of the term, nominated by Haidian, selected and
    published by the city (rpms.assessments' services)."""
    from rpms.assessments import services as assessment_services

    planner = make_planner(beijing, "表彰测试规划师", id_number=SECRET_ID_2, mobile=SECRET_MOBILE_2)
    appointment = appoint(wanshou, planner)
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = assessment_services.assessment_open(actor=district_haidian, appointment=appointment)
    criteria = [c["code"] for c in beijing.policy.assessment_criteria]
    for user in (street_office, district_haidian):
        assessment_services.assessment_score(actor=user, assessment=assessment, scores={c: 95 for c in criteria},
                                             comment="服务认真")
    # issue #12: graded in the review window with the 述职 and the 属地反馈 in
    from rpms.testing.builders import review_inputs_build

    review_inputs_build(assessment=assessment, entity_user=street_office)
    assessment = assessment_services.assessment_grade(actor=district_haidian, assessment=assessment, grade="excellent")
    honour = assessment_services.honour_nominate(actor=district_haidian, assessment=assessment, reason="组织议事会 12 场")
    assessment_services.honour_decide(actor=city_admin, honour=honour, selected=True)
    assessment_services.honour_list_publish(actor=city_admin, city=beijing, year=assessment.year)
    return honour


def test_honours_dataset_lists_published_honours_without_personal_data(anon, published_honour):
    data = anon.get("/api/v1/public/honours.json", {"city": "beijing"}).json()
    [row] = data["rows"]
    assert row["planner"] == "表彰测试规划师" and row["year"] == published_honour.year
    assert row["district"] == "海淀区" and row["verification_code"]
    body = anon.get("/api/v1/public/honours.csv").content.decode("utf-8") + json.dumps(data, ensure_ascii=False)
    assert SECRET_ID_2 not in body and SECRET_MOBILE_2 not in body and "组织议事会" not in body
    assert anon.get("/api/v1/public/honours/fields").status_code == 200


def test_a_published_honours_list_appears_among_the_announcements(anon, published_honour):
    html = anon.get("/info/announcements/", {"kind": "honours"}).content.decode()
    title = f"北京市{published_honour.year}年度优秀责任规划师名单"
    assert title in html and f"/assessments/honours/?city=beijing&amp;year={published_honour.year}" in html


def test_units_dataset_query_count_does_not_grow_with_appointments(anon, beijing, haidian, appoint):
    units = list(ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True)
                 .select_related("district", "city__policy").order_by("id"))
    appoint(units[0])
    # the policy profile is cached from the first file with an appointment on (an act makes the file stale:
    # both requests below generate it)
    anon.get("/api/v1/public/units.json", {"city": "beijing"})
    appoint(units[5])
    with CaptureQueriesContext(connection) as few:
        assert anon.get("/api/v1/public/units.json", {"city": "beijing"}).status_code == 200
    for unit in units[1:5]:
        appoint(unit)
    with CaptureQueriesContext(connection) as many:
        assert anon.get("/api/v1/public/units.json", {"city": "beijing"}).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_csv_cells_cannot_inject_formulas(city_admin, anon):
    announcement = services.announcement_create(actor=city_admin, city=city_admin.city, kind="other",
                                                title="=HYPERLINK(\"http://x\")", body="正文")
    services.announcement_publish(actor=city_admin, announcement=announcement)
    text = anon.get("/api/v1/public/notices.csv").content.decode("utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
