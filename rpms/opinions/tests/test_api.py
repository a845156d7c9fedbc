"""The /api/v1/opinions endpoints, in both cities."""
import io
import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pdfminer.high_level import extract_text

from rpms.documents.models import DocumentStatus
from rpms.opinions import services
from rpms.opinions.models import OpinionReceipt, OpinionStatus, WrittenOpinion

from .conftest import draft_data


def call(method, url, user_headers, body=None):
    client = Client()
    kwargs = dict(user_headers)
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(url, **kwargs)


def create_body(world, **overrides):
    return {"unit": world.unit.pk, **draft_data(world, **overrides)}


def issue_via_api(world, headers, **overrides):
    created = call("post", "/api/v1/opinions", headers, create_body(world, **overrides))
    assert created.status_code == 201, created.content.decode()
    pk = created.json()["id"]
    declared = call("post", f"/api/v1/opinions/{pk}/declaration", headers, {"has_conflict": False})
    assert declared.status_code == 200, declared.content.decode()
    issued = call("post", f"/api/v1/opinions/{pk}/issue", headers)
    assert issued.status_code == 200, issued.content.decode()
    return issued.json()


def test_a_serving_planner_drafts_declares_and_issues_through_the_api(world, bearer):
    headers = bearer(world.author)
    data = issue_via_api(world, headers)
    assert data["status"] == "issued"
    assert len(data["content_hash"]) == 64
    assert data["document_number"].startswith(world.city.code.upper())
    assert data["verification_code"] and data["verify_path"].startswith("/verify/")
    assert data["content"]["declaration"]["article"] == world.interest_article
    opinion = WrittenOpinion.objects.get(pk=data["id"])
    assert opinion.content_hash == data["content_hash"]


def test_a_planner_not_serving_the_unit_gets_403(world, bearer):
    response = call("post", "/api/v1/opinions", bearer(world.outsider), create_body(world))
    assert response.status_code == 403
    assert response.json()["code"] == "opinion_not_serving"
    assert "履职" in response.json()["message"]
    assert not WrittenOpinion.objects.exists()


def test_a_planner_not_serving_the_unit_cannot_issue_anothers_draft(world, bearer, make_draft):
    opinion = make_draft(world)
    services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
    response = call("post", f"/api/v1/opinions/{opinion.pk}/issue", bearer(world.outsider))
    assert response.status_code == 404  # a draft is its author's own: not even revealed
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.DRAFT


def test_an_issued_opinion_cannot_be_edited_through_the_api(world, bearer, make_issued):
    opinion = make_issued(world)
    headers = bearer(world.author)
    response = call("patch", f"/api/v1/opinions/{opinion.pk}", headers, {"findings": "出具后改写"})
    assert response.status_code == 409
    assert response.json()["code"] == "opinion_immutable"
    assert "更正" in response.json()["message"]
    assert call("delete", f"/api/v1/opinions/{opinion.pk}", headers).status_code == 409
    assert call("post", f"/api/v1/opinions/{opinion.pk}/declaration", headers,
                {"has_conflict": True, "note": "x"}).status_code == 409
    fresh = WrittenOpinion.objects.get(pk=opinion.pk)
    assert fresh.findings == opinion.findings and fresh.content_hash == opinion.content_hash


def test_a_draft_is_edited_through_the_api_by_its_author(world, bearer, make_draft):
    opinion = make_draft(world)
    response = call("patch", f"/api/v1/opinions/{opinion.pk}", bearer(world.author),
                    {"findings": "补充：建筑高度超出控规要求。", "reviewed_documents": ["规划条件"]})
    assert response.status_code == 200, response.content.decode()
    assert response.json()["findings"] == "补充：建筑高度超出控规要求。"
    assert response.json()["reviewed_documents"] == ["规划条件"]
    bad = call("patch", f"/api/v1/opinions/{opinion.pk}", bearer(world.author), {"subject_kind": "novel"})
    assert bad.status_code == 400 and "审查对象类型" in bad.json()["message"]


def test_a_declared_conflict_blocks_issuing_through_the_api(world, bearer, make_draft):
    opinion = make_draft(world)
    headers = bearer(world.author)
    declared = call("post", f"/api/v1/opinions/{opinion.pk}/declaration", headers,
                    {"has_conflict": True, "note": "本人所在单位参与了该项目的前期咨询"})
    assert declared.status_code == 200
    assert declared.json()["declaration"]["has_conflict"] is True
    response = call("post", f"/api/v1/opinions/{opinion.pk}/issue", headers)
    assert response.status_code == 400
    assert response.json()["code"] == "opinion_interest_conflict"
    assert world.interest_article in response.json()["message"]
    assert WrittenOpinion.objects.get(pk=opinion.pk).status == OpinionStatus.DRAFT


def test_supersede_through_the_api_keeps_both_versions(world, bearer):
    headers = bearer(world.author)
    first = issue_via_api(world, headers)
    created = call("post", f"/api/v1/opinions/{first['id']}/supersede", headers, {"reason": "更正审查文件名称"})
    assert created.status_code == 201, created.content.decode()
    second = created.json()
    assert second["version"] == 2 and second["supersedes"] == first["id"] and second["status"] == "draft"
    call("patch", f"/api/v1/opinions/{second['id']}", headers, {"reviewed_documents": ["方案设计说明（报批稿）"]})
    call("post", f"/api/v1/opinions/{second['id']}/declaration", headers, {"has_conflict": False})
    issued = call("post", f"/api/v1/opinions/{second['id']}/issue", headers)
    assert issued.status_code == 200
    old = call("get", f"/api/v1/opinions/{first['id']}", headers).json()
    new = issued.json()
    assert old["status"] == "superseded" and old["document_status"] == DocumentStatus.SUPERSEDED
    assert old["superseded_by"] == new["id"]
    assert new["status"] == "issued" and new["document_status"] == DocumentStatus.VALID
    assert old["content_hash"] != new["content_hash"]
    assert old["content"]["reviewed_documents"] != new["content"]["reviewed_documents"]


def test_the_pdf_carries_the_subject_findings_and_verification_code(world, bearer, make_issued):
    opinion = make_issued(world)
    response = call("get", f"/api/v1/opinions/{opinion.pk}.pdf", bearer(world.entity))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = extract_text(io.BytesIO(response.content))
    flat = "".join(text.split())
    assert opinion.subject in flat
    assert "沿街界面连续性不足" in flat and "打通南北向步行通道" in flat
    assert opinion.document.formatted_code in flat or opinion.document.verification_code in flat
    assert opinion.document.number in flat
    assert "利益冲突声明" in flat


def test_a_draft_has_no_pdf(world, bearer, make_draft):
    opinion = make_draft(world)
    response = call("get", f"/api/v1/opinions/{opinion.pk}.pdf", bearer(world.author))
    assert response.status_code == 409


def test_opinions_are_scoped_and_never_public(world, bearer, make_issued):
    opinion = make_issued(world)
    url = f"/api/v1/opinions/{opinion.pk}"
    assert Client().get(url).status_code == 401
    assert call("get", url, bearer(world.other_officer)).status_code == 404
    assert call("get", f"{url}.pdf", bearer(world.other_officer)).status_code == 404
    assert call("get", url, bearer(world.outsider)).status_code == 404
    for reader in (world.entity, world.officer, world.admin, world.author):
        assert call("get", url, bearer(reader)).status_code == 200
    assert call("get", "/api/v1/opinions", bearer(world.other_officer)).json() == []
    assert [row["id"] for row in call("get", "/api/v1/opinions", bearer(world.officer)).json()] == [opinion.pk]


def test_drafts_are_seen_by_their_author_only(world, bearer, make_draft):
    opinion = make_draft(world)
    for user in (world.entity, world.officer, world.admin):
        assert call("get", f"/api/v1/opinions/{opinion.pk}", bearer(user)).status_code == 404
        assert call("get", "/api/v1/opinions", bearer(user)).json() == []
    assert call("get", f"/api/v1/opinions/{opinion.pk}", bearer(world.author)).status_code == 200


def test_the_inbox_shows_received_opinions_with_read_receipts(world, bearer, make_issued):
    opinion = make_issued(world)
    headers = bearer(world.entity)
    [row] = call("get", "/api/v1/opinions/inbox", headers).json()
    assert row["id"] == opinion.pk and row["read_at"] is None
    read = call("post", f"/api/v1/opinions/{opinion.pk}/read", headers)
    assert read.status_code == 200
    [row] = call("get", "/api/v1/opinions/inbox", headers).json()
    assert row["read_at"] == read.json()["read_at"]
    assert call("get", "/api/v1/opinions/inbox?unread=true", headers).json() == []
    assert call("get", "/api/v1/opinions/inbox", bearer(world.other_officer)).json() == []
    detail = call("get", f"/api/v1/opinions/{opinion.pk}", bearer(world.author)).json()
    assert [r["user"] for r in detail["receipts"]] == [world.entity.display_name]
    assert OpinionReceipt.objects.get().user == world.entity


def test_the_design_units_response_is_recorded_through_the_api(world, bearer, make_issued):
    opinion = make_issued(world)
    response = call("post", f"/api/v1/opinions/{opinion.pk}/response", bearer(world.entity),
                    {"responder": "design_unit", "outcome": "not_adopted", "reasons": "与已批复的规划条件冲突"})
    assert response.status_code == 201, response.content.decode()
    assert response.json()["outcome_label"] == "未采纳"
    dept = call("post", f"/api/v1/opinions/{opinion.pk}/response", bearer(world.author),
                {"responder": "department", "department": world.department.pk, "outcome": "adopted"})
    assert dept.status_code == 201
    detail = call("get", f"/api/v1/opinions/{opinion.pk}", bearer(world.officer)).json()
    assert {r["responder"] for r in detail["responses"]} == {"design_unit", "department"}
    refused = call("post", f"/api/v1/opinions/{opinion.pk}/response", bearer(world.officer),
                   {"responder": "design_unit", "outcome": "adopted"})
    assert refused.status_code == 403


def test_bad_input_gets_a_chinese_4xx(world, bearer):
    headers = bearer(world.author)
    missing = call("post", "/api/v1/opinions", headers, {"unit": world.unit.pk})
    assert missing.status_code == 422 and "请求参数有误" in missing.json()["message"]
    unknown_unit = call("post", "/api/v1/opinions", headers, {**create_body(world), "unit": 999999})
    assert unknown_unit.status_code == 404
    assert call("get", "/api/v1/opinions/999999", headers).status_code == 404


def test_the_lists_keep_a_constant_query_count(world, bearer, make_issued, django_assert_max_num_queries):
    make_issued(world)
    headers = {"author": bearer(world.author), "entity": bearer(world.entity), "officer": bearer(world.officer)}
    urls = {"author": "/api/v1/opinions", "entity": "/api/v1/opinions/inbox", "officer": "/api/v1/opinions"}
    baseline = {}
    for who, url in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            assert len(call("get", url, headers[who]).json()) == 1
        baseline[who] = len(ctx.captured_queries)
    for _ in range(4):
        make_issued(world)
    opinion = WrittenOpinion.objects.order_by("id").first()
    services.opinion_supersede(actor=world.author, opinion=opinion, reason="更正")
    for who, url in urls.items():
        with django_assert_max_num_queries(baseline[who]):
            rows = call("get", url, headers[who]).json()
        assert len(rows) >= 5
