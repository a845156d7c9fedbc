"""Public verification (B19(7), B22): page and API say valid / revoked (date, reason) / superseded
(link to the newer) / not found, show no personal data, and are rate-limited per client."""
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from rpms.documents.models import DocumentKind
from rpms.documents.services import document_revoke

pytestmark = pytest.mark.django_db

ID_NUMBER = "110108199003071234"
MOBILE = "13800138000"


@pytest.fixture
def planner(beijing):
    from rpms.registry.models import Planner

    return Planner.objects.create(city=beijing, name="城市更新设计团队", leader_name="林若溪", id_number=ID_NUMBER,
                                  mobile=MOBILE, employer="北京某规划设计研究院（虚构）")


@pytest.fixture
def contract(beijing, issue, planner):
    return issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner, holder_name=planner.name)


def assert_no_personal_data(text: str, document):
    assert ID_NUMBER not in text and MOBILE not in text
    # The verification shows facts about the document, not its content.
    assert "分两期支付" not in text and "200000" not in text and "200,000" not in text
    assert "北京某规划设计研究院" not in text
    assert str(document.context["clauses"][0]["text"])[:20] not in text


# --- page ----------------------------------------------------------------------------------------------


def test_valid_document_page(anon, contract, beijing):
    response = anon.get(f"/verify/{contract.verification_code}/")
    assert response.status_code == 200
    text = response.content.decode()
    for expected in ("目前<strong>有效</strong>", "聘用合同", contract.title, contract.number, beijing.name,
                     contract.holder_name, contract.content_hash, contract.formatted_code,
                     "2026-03-02"):  # the date printed on the document
        assert expected in text, expected
    assert_no_personal_data(text, contract)


def test_lookup_accepts_the_code_as_printed_or_typed(anon, contract):
    assert anon.get(f"/verify/{contract.formatted_code}/").status_code == 200
    assert anon.get(f"/verify/{contract.verification_code.lower()}/").status_code == 200


def test_revoked_document_page_shows_date_and_reason(anon, contract, city_admin):
    with transaction.atomic():
        revoked = document_revoke(actor=city_admin, document=contract, reason="合同双方协商解除")
    text = anon.get(f"/verify/{contract.verification_code}/").content.decode()
    assert "撤销" in text and "合同双方协商解除" in text
    assert revoked.revoked_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() in text
    assert "目前<strong>有效</strong>" not in text


def test_superseded_document_page_links_to_the_newer(anon, beijing, issue, contract, planner):
    newer = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner, supersedes=contract)
    text = anon.get(f"/verify/{contract.verification_code}/").content.decode()
    assert "替代" in text and newer.number in text
    assert f'href="/verify/{newer.verification_code}/"' in text
    assert "目前<strong>有效</strong>" in anon.get(f"/verify/{newer.verification_code}/").content.decode()


@pytest.mark.parametrize("code", ["ABCDEFGHJKMNPQRS", "not-a-code", "0000-0000-0000-0000"])
def test_unknown_or_malformed_code_page_is_404_in_chinese(anon, code):
    response = anon.get(f"/verify/{code}/")
    assert response.status_code == 404
    assert "未找到该核验码对应的文书" in response.content.decode()


def test_form_normalises_the_code_and_redirects(anon, contract):
    page = anon.get("/verify/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = anon.post("/verify/", {"code": " " + contract.formatted_code.lower() + " "})
    assert response.status_code == 302 and response["Location"] == f"/verify/{contract.verification_code}/"
    bad = anon.post("/verify/", {"code": "12345"})
    assert bad.status_code == 400 and "核验码应为 16 位" in bad.content.decode()


def test_page_lookups_are_rate_limited_per_client(anon, contract, settings):
    settings.RPMS_VERIFY_RATE = (3, 60)
    for _ in range(3):
        assert anon.get(f"/verify/{contract.verification_code}/").status_code == 200
    response = anon.get(f"/verify/{contract.verification_code}/")
    assert response.status_code == 429
    assert "操作过于频繁" in response.content.decode()
    # Another client is not affected.
    from django.test import Client

    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.get(f"/verify/{contract.verification_code}/").status_code == 200


# --- API -----------------------------------------------------------------------------------------------


def test_api_valid_document(anon, contract, beijing):
    response = anon.get(f"/api/v1/documents/verify/{contract.formatted_code}")
    assert response.status_code == 200
    data = response.json()
    assert data["valid"] is True and data["status"] == "valid"
    assert data["kind"] == "appointment_contract" and data["kind_label"] == "聘用合同"
    assert data["title"] == contract.title and data["number"] == contract.number
    assert data["city"] == beijing.name and data["holder_name"] == "城市更新设计团队"
    assert data["content_hash"] == contract.content_hash and len(data["content_hash"]) == 64
    assert data["issued_on"] == contract.context["issued_on"] == "2026-03-02"
    assert "context" not in data
    assert_no_personal_data(response.content.decode(), contract)


def test_api_revoked_and_superseded(anon, beijing, issue, contract, city_admin):
    newer = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, supersedes=contract)
    superseded = anon.get(f"/api/v1/documents/verify/{contract.verification_code}").json()
    assert superseded["valid"] is False and superseded["status"] == "superseded"
    assert superseded["superseded_by"]["number"] == newer.number
    with transaction.atomic():
        document_revoke(actor=city_admin, document=newer, reason="聘任决定撤回")
    revoked = anon.get(f"/api/v1/documents/verify/{newer.verification_code}").json()
    assert revoked["valid"] is False and revoked["status"] == "revoked"
    assert revoked["revoke_reason"] == "聘任决定撤回" and revoked["revoked_on"]


def test_api_issue_date_falls_back_to_the_day_of_issue(anon, beijing, issue):
    document = issue(beijing, DocumentKind.WORK_CERTIFICATE, context={"heading": "工作证明"})
    data = anon.get(f"/api/v1/documents/verify/{document.verification_code}").json()
    assert data["issued_on"] == document.issued_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.mark.parametrize("code", ["ABCDEFGHJKMNPQRS", "garbage"])
def test_api_unknown_code_is_404_with_chinese_detail(anon, code):
    response = anon.get(f"/api/v1/documents/verify/{code}")
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到该核验码对应的文书"


def test_api_and_page_share_the_rate_limit(anon, contract, settings):
    settings.RPMS_VERIFY_RATE = (2, 60)
    assert anon.get(f"/verify/{contract.verification_code}/").status_code == 200
    assert anon.get(f"/api/v1/documents/verify/{contract.verification_code}").status_code == 200
    response = anon.get(f"/api/v1/documents/verify/{contract.verification_code}")
    assert response.status_code == 429
    assert response.json()["detail"] == "操作过于频繁，请稍后再试。"


# --- admin ---------------------------------------------------------------------------------------------


def test_admin_lists_documents_read_only(contract, django_user_model, client):
    admin = django_user_model.objects.create_superuser(username="root_docs", password="Root-pass-2026!x")
    client.force_login(admin)
    listing = client.get("/admin/documents/issueddocument/")
    assert listing.status_code == 200 and contract.number in listing.content.decode()
    assert client.get("/admin/documents/issueddocument/add/").status_code == 403
    detail = client.get(f"/admin/documents/issueddocument/{contract.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
