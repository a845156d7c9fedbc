"""The recruitment API: status codes and shapes, roles (403), another city's records (404),
proofs (type by content, size, entitlement), the objection rate limit, constant query counts."""
import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from rpms.core.models import ActionLog
from rpms.recruitment import services
from rpms.recruitment.models import Application, Proof
from rpms.testing.pdfs import TINY_PDF

from .factories import applicant, approved_application, beijing_data, open_call

pytestmark = pytest.mark.django_db

PDF = TINY_PDF


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def post(client, url, body, headers=None):
    return client.post(url, data=json.dumps(body), content_type="application/json", **(headers or {}))


@pytest.fixture
def bj_call(city_admin, beijing):
    return open_call(city_admin, beijing)


@pytest.fixture
def pds_call(pds_admin, pingdingshan):
    return open_call(pds_admin, pingdingshan)


def test_creating_a_call_returns_201_and_lists_it_publicly(anon, beijing, city_admin, bearer):
    response = post(anon, "/api/v1/cities/beijing/calls", {
        "title": "2026 年北京责任规划师征集", "kind": "targeted", "specialties": ["farmland_protection"],
        "deadline": (dt.date.today() + dt.timedelta(days=10)).isoformat()}, bearer(city_admin))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "targeted" and body["article"] == "B19(1)" and body["open"] is True
    assert body["specialty_labels"] == ["耕地保护"]
    listed = anon.get("/api/v1/cities/beijing/calls").json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert anon.get("/api/v1/cities/pingdingshan/calls").json() == []


def test_only_a_city_administrator_of_that_city_creates_calls(anon, beijing, pingdingshan, city_admin, district_haidian, bearer):
    body = {"title": "征集", "deadline": (dt.date.today() + dt.timedelta(days=10)).isoformat()}
    officer = post(anon, "/api/v1/cities/beijing/calls", body, bearer(district_haidian))
    assert officer.status_code == 403 and officer.json()["detail"]
    other_city = post(anon, "/api/v1/cities/pingdingshan/calls", body, bearer(city_admin))
    assert other_city.status_code == 404
    unauthenticated = post(anon, "/api/v1/cities/beijing/calls", body)
    assert unauthenticated.status_code == 401


def test_bad_input_gives_4xx_with_a_chinese_message(anon, beijing, city_admin, bearer):
    response = post(anon, "/api/v1/cities/beijing/calls", {"title": "征集", "deadline": "下周"}, bearer(city_admin))
    assert response.status_code == 422 and "deadline" in response.json()["detail"]
    response = post(anon, "/api/v1/cities/beijing/calls", {"title": "征集", "kind": "secret",
                                                            "deadline": dt.date.today().isoformat()}, bearer(city_admin))
    assert response.status_code == 400 and response.json()["code"] == "invalid_kind"


def test_application_returns_201_with_eligibility_rule_by_rule(anon, bj_call, beijing, bearer):
    user = applicant("a1", beijing)
    response = post(anon, f"/api/v1/calls/{bj_call.pk}/applications", beijing_data(experience_years=2), bearer(user))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "status", "eligibility", "prior_planner", "changes"}
    assert body["prior_planner"] is None and body["changes"] == []  # a newcomer: nothing to compare
    assert body["status"] == "submitted" and body["eligibility"]["eligible"] is False
    rules = body["eligibility"]["rules"]
    assert [(r["rule"], r["passed"], r["article"]) for r in rules] == [
        ("qualification", True, "B18(1)"), ("familiarity", True, "B18(2)"), ("experience", False, "B18(3)"),
        ("commitment", True, "B18(4)")]
    assert all(r["reason"] for r in rules)


def test_only_planner_accounts_apply(anon, bj_call, city_admin, bearer):
    response = post(anon, f"/api/v1/calls/{bj_call.pk}/applications", beijing_data(), bearer(city_admin))
    assert response.status_code == 403


def test_an_invalid_id_number_is_refused_with_400_and_nothing_saved(anon, bj_call, beijing, bearer):
    response = post(anon, f"/api/v1/calls/{bj_call.pk}/applications", beijing_data(id_number="110108198501010010"),
                    bearer(applicant("a1", beijing)))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_id_number" and "校验位" in response.json()["detail"]
    assert not Application.objects.exists()


def test_the_eligibility_check_before_submitting_saves_nothing(anon, pds_call):
    response = post(anon, f"/api/v1/calls/{pds_call.pk}/eligibility-check",
                    {"degree": "junior_college", "experience_years": 11,
                     "declarations": ["political", "familiarity", "good_record"]})
    assert response.status_code == 200 and response.json()["eligible"] is True
    assert not Application.objects.exists()


def test_acting_on_another_citys_records_is_404(anon, bj_call, beijing, city_admin, pds_admin, bearer, clock):
    application = approved_application(city_admin, bj_call, applicant("a1", beijing), beijing_data())
    other = services.application_submit(actor=applicant("a2", beijing), call=bj_call, data=beijing_data())
    notice = services.notice_publish(actor=city_admin, call=bj_call)
    objection = services.objection_submit(notice=notice, application_id=application.pk, content="问题",
                                          contact_name="甲", contact_phone="13900000000")
    pds = bearer(pds_admin)
    before = ActionLog.objects.count()
    for url, body in [
        (f"/api/v1/applications/{other.pk}/review", {"decision": "reject", "reason": "跨市"}),
        (f"/api/v1/calls/{bj_call.pk}/notices", {}),
        (f"/api/v1/objections/{objection.pk}/resolve", {"upheld": True, "finding": "跨市"}),
        (f"/api/v1/notices/{notice.pk}/close", {}),
    ]:
        response = post(anon, url, body, pds)
        assert response.status_code == 404, url
        assert response.json()["detail"] == "记录不存在或您无权查看。"
    assert anon.get(f"/api/v1/applications/{other.pk}", **pds).status_code == 404
    assert anon.get(f"/api/v1/calls/{bj_call.pk}/applications", **pds).status_code == 404
    assert ActionLog.objects.count() == before


def test_an_applicant_sees_their_own_application_and_nobody_elses(anon, bj_call, beijing, bearer):
    mine = services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data())
    stranger = applicant("a2", beijing)
    assert anon.get(f"/api/v1/applications/{mine.pk}", **bearer(stranger)).status_code == 404
    body = anon.get(f"/api/v1/applications/{mine.pk}", **bearer(mine.applicant)).json()
    assert body["id_number_masked"].startswith("110") and "*" in body["id_number_masked"]
    assert mine.id_number not in json.dumps(body) and mine.mobile not in json.dumps(body)


def test_notice_publication_returns_the_window_and_candidates(anon, bj_call, beijing, city_admin, bearer, clock):
    clock.set(dt.date(2026, 11, 20))
    first = approved_application(city_admin, bj_call, applicant("a1", beijing), beijing_data(name="甲"))
    services.application_submit(actor=applicant("a2", beijing), call=bj_call, data=beijing_data(name="未审核"))
    response = post(anon, f"/api/v1/calls/{bj_call.pk}/notices", {"start": "2026-11-20"}, bearer(city_admin))
    assert response.status_code == 201
    body = response.json()
    assert body["start"] == "2026-11-20" and body["end"] == "2026-11-26"  # Fri + Mon–Thu
    assert [c["application"] for c in body["candidates"]] == [first.pk]
    assert set(body["candidates"][0]) >= {"name", "employer", "title", "specialties"}
    again = post(anon, f"/api/v1/calls/{bj_call.pk}/notices", {"start": "2026-11-20"}, bearer(city_admin))
    assert again.status_code == 409 and again.json()["code"] == "no_candidates"


def test_objections_are_anonymous_201_inside_and_409_outside_the_window(anon, bj_call, beijing, city_admin, clock):
    clock.set(dt.date(2026, 11, 2))
    application = approved_application(city_admin, bj_call, applicant("a1", beijing), beijing_data())
    notice = services.notice_publish(actor=city_admin, call=bj_call, start=dt.date(2026, 11, 2))
    body = {"application": application.pk, "content": "反映问题", "contact_name": "居民", "contact_phone": "13900000000"}
    assert post(anon, f"/api/v1/notices/{notice.pk}/objections", body).status_code == 201
    clock.set(dt.date(2026, 11, 7))
    late = post(anon, f"/api/v1/notices/{notice.pk}/objections", body)
    assert late.status_code == 409 and late.json()["detail"] == "公示期已于 2026-11-06 结束，不再受理异议。"
    missing = post(anon, f"/api/v1/notices/{notice.pk}/objections", {"application": application.pk})
    assert missing.status_code == 422 and "content" in missing.json()["detail"]


def test_objections_are_rate_limited_per_address(anon, bj_call, beijing, city_admin, settings):
    settings.RPMS_OBJECTION_RATE = (2, 3600)
    application = approved_application(city_admin, bj_call, applicant("a1", beijing), beijing_data())
    notice = services.notice_publish(actor=city_admin, call=bj_call)
    body = {"application": application.pk, "content": "反映问题", "contact_name": "居民", "contact_phone": "13900000000"}
    codes = [post(anon, f"/api/v1/notices/{notice.pk}/objections", body).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert notice.objections.count() == 2


def test_resolve_and_close_answer_as_documented(anon, bj_call, beijing, city_admin, bearer, clock):
    clock.set(dt.date(2026, 11, 2))
    application = approved_application(city_admin, bj_call, applicant("a1", beijing), beijing_data())
    notice = services.notice_publish(actor=city_admin, call=bj_call, start=dt.date(2026, 11, 2))
    objection = services.objection_submit(notice=notice, application_id=application.pk, content="问题",
                                          contact_name="甲", contact_phone="13900000000")
    headers = bearer(city_admin)
    resolved = post(anon, f"/api/v1/objections/{objection.pk}/resolve", {"upheld": False, "finding": "不属实"}, headers)
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "rejected"
    clock.set(dt.date(2026, 11, 9))
    headers = bearer(city_admin)  # a week later: a token of the day (the earlier one lapsed)
    closed = post(anon, f"/api/v1/notices/{notice.pk}/close", {}, headers)
    assert closed.status_code == 200
    [entry] = closed.json()["admitted"]
    assert entry["application"] == application.pk and entry["pool_status"] == "active"


# --- proofs -------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(bj_call, beijing):
    return services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data())


def upload(client, application, name, content, headers):
    return client.post(f"/api/v1/applications/{application.pk}/proofs",
                       {"file": SimpleUploadedFile(name, content), "label": "职称证书"}, **headers)


def test_a_pdf_proof_is_stored_and_served_only_to_those_entitled(anon, submitted, bearer, city_admin, auditor, pds_admin, settings):
    response = upload(anon, submitted, "证书.pdf", PDF, bearer(submitted.applicant))
    assert response.status_code == 201 and response.json()["kind"] == "pdf"
    proof = Proof.objects.get()
    assert (settings.PRIVATE_MEDIA_ROOT / proof.path).read_bytes() == PDF
    assert ActionLog.objects.filter(action="recruitment.proof_add", object_id=str(proof.pk)).count() == 1
    url = f"/api/v1/applications/{submitted.pk}/proofs/{proof.pk}"
    for user in (submitted.applicant, city_admin, auditor):
        answer = anon.get(url, **bearer(user))
        assert answer.status_code == 200, user
        assert b"".join(answer.streaming_content) == PDF
    assert anon.get(url, **bearer(pds_admin)).status_code == 404
    assert anon.get(url, **bearer(applicant("nosy", submitted.call.city))).status_code == 404


def test_a_disguised_upload_is_refused(anon, submitted, bearer):
    disguised = upload(anon, submitted, "证书.pdf", b"MZ\x90\x00 this is a windows program", bearer(submitted.applicant))
    assert disguised.status_code == 400 and disguised.json()["code"] == "upload_type_not_allowed"
    renamed = upload(anon, submitted, "照片.pdf", png_bytes(), bearer(submitted.applicant))
    assert renamed.status_code == 400 and renamed.json()["code"] == "upload_type_mismatch"
    assert not Proof.objects.exists()


def test_an_oversize_upload_is_refused(anon, submitted, bearer, settings):
    settings.RPMS_MAX_PROOF_BYTES = 1024
    big = PDF[:-6] + b"0" * 2048 + b"\n%%EOF\n"
    response = upload(anon, submitted, "大文件.pdf", big, bearer(submitted.applicant))
    assert response.status_code == 400 and response.json()["code"] == "upload_too_large"
    assert "上限" in response.json()["detail"]
    assert not Proof.objects.exists()


def test_only_the_applicant_uploads_and_only_before_review(anon, submitted, bearer, city_admin):
    assert upload(anon, submitted, "a.pdf", PDF, bearer(city_admin)).status_code == 403
    services.application_review(actor=city_admin, application=submitted, decision="reject", reason="不符合")
    late = upload(anon, submitted, "a.pdf", PDF, bearer(submitted.applicant))
    assert late.status_code == 409


# --- query counts -------------------------------------------------------------------------------------


def test_call_and_notice_lists_keep_a_constant_query_count(anon, beijing, city_admin, django_assert_max_num_queries, clock):
    clock.set(dt.date(2026, 11, 2))

    def grow(n, start):
        for i in range(n):
            call = open_call(city_admin, beijing, title=f"征集{start + i}", deadline=dt.date(2026, 11, 30))
            approved_application(city_admin, call, applicant(f"q{start + i}", beijing), beijing_data())
        return call

    call = grow(2, 0)
    notice = services.notice_publish(actor=city_admin, call=call, start=dt.date(2026, 11, 2))
    with django_assert_max_num_queries(6) as small_calls:
        anon.get("/api/v1/cities/beijing/calls")
    with django_assert_max_num_queries(8) as small_notice:
        anon.get(f"/api/v1/notices/{notice.pk}")
    call = grow(6, 10)
    for i in range(6):
        approved_application(city_admin, call, applicant(f"more{i}", beijing), beijing_data())
    big_notice = services.notice_publish(actor=city_admin, call=call, start=dt.date(2026, 11, 2))
    with django_assert_max_num_queries(len(small_calls.captured_queries)):
        response = anon.get("/api/v1/cities/beijing/calls")
    assert len(response.json()) == 8
    with django_assert_max_num_queries(len(small_notice.captured_queries)):
        response = anon.get(f"/api/v1/notices/{big_notice.pk}")
    assert len(response.json()["candidates"]) == 7


def test_the_application_list_pages_and_keeps_its_queries(anon, bj_call, beijing, city_admin, bearer):
    # issue #15: still a list; limit/offset bound it (at most 1000), the query count does not grow with the rows
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = bearer(city_admin)
    path = f"/api/v1/calls/{bj_call.pk}/applications"
    ids = [services.application_submit(actor=applicant("p0", beijing), call=bj_call, data=beijing_data()).pk]
    anon.get(path, **headers)
    with CaptureQueriesContext(connection) as few:
        assert [a["id"] for a in anon.get(path, **headers).json()] == ids
    for i in range(1, 5):
        ids.append(services.application_submit(actor=applicant(f"p{i}", beijing), call=bj_call,
                                               data=beijing_data()).pk)
    with CaptureQueriesContext(connection) as many:
        assert [a["id"] for a in anon.get(path, **headers).json()] == ids
    assert len(many.captured_queries) == len(few.captured_queries)
    assert [a["id"] for a in anon.get(f"{path}?limit=2&offset=2", **headers).json()] == ids[2:4]
    too_many = anon.get(f"{path}?limit=1001", **headers)
    assert too_many.status_code == 400 and "每页条数" in too_many.json()["detail"]
