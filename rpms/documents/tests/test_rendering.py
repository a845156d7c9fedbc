"""PDF rendering: every kind prints its title, parties, clauses, number and verification code in
Chinese (CJK text extracts, so the font is embedded), from the stored snapshot, deterministically,
and without ever fetching anything over the network."""
import io
import re
import socket

import pytest
from django.db import transaction
from pdfminer.high_level import extract_text

from rpms.documents.models import DocumentKind
from rpms.documents.rendering import document_pdf, document_pdf_response, html_to_pdf, local_only_fetcher
from rpms.documents.services import document_revoke

from .conftest import CONTEXT_BUILDERS, certificate_context, contract_context, dispatch_notice_context, generic_context

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return extract_text(io.BytesIO(data))


def flat(text: str) -> str:
    """Extracted text without whitespace: line breaks may fall anywhere in Chinese text."""
    return re.sub(r"\s+", "", text)


def assert_contains_all(text: str, expected):
    body = flat(text)
    missing = [e for e in expected if flat(str(e)) not in body]
    assert not missing, f"missing from the PDF text: {missing}"


def test_dispatch_notice_prints_every_field_the_appointments_context_passes(beijing, issue):
    document = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    context = dispatch_notice_context(beijing)
    text = pdf_text(document_pdf(document))
    assert_contains_all(text, [
        "责任规划师派驻通知", "北京市规划和自然资源委员会", *context["recipients"], context["planner_name"],
        "（团队）", context["leader_name"], context["employer"], context["unit_name"], context["district_name"],
        *context["subdistricts"], context["role_label"], context["start"], context["end"], "共1年",
        *context["duties"], context["service_focus"], context["contact_note"], context["rulebook_title"],
        "B19(1)", "B19(3)", context["article_note"], context["issued_on"],
        document.number, document.formatted_code, document.content_hash[:16], f"/verify/{document.verification_code}/",
    ])
    assert "强化调查研究" in text  # CJK extracts as characters: the font is embedded with its Unicode map


def test_certificate_prints_holder_team_members_and_term(pingdingshan, issue):
    document = issue(pingdingshan, DocumentKind.APPOINTMENT_CERTIFICATE)
    context = certificate_context(pingdingshan)
    text = pdf_text(document_pdf(document))
    assert_contains_all(text, [
        "聘任证书", "平顶山市自然资源和规划局", "兹聘任", context["planner_name"], context["leader_name"],
        *[m["name"] for m in context["core_members"]], *[m["specialty_label"] for m in context["core_members"]],
        context["employer"], context["district_name"] + context["unit_name"], context["start"], context["end"],
        "P6(2)", document.number, document.formatted_code,
    ])


@pytest.mark.parametrize("city_code", ["beijing", "pingdingshan"])
def test_contract_prints_one_section_per_clause_with_its_label_text_and_article(reference, issue, city_code):
    city = reference[city_code]
    document = issue(city, DocumentKind.APPOINTMENT_CONTRACT)
    context = contract_context(city)
    assert context["clauses"], "the city's policy ships contract clauses"
    text = pdf_text(document_pdf(document))
    assert_contains_all(text, [
        "责任规划师聘用合同", context["party_a"], context["party_b"], context["party_b_leader"],
        context["party_b_employer"], context["filing_body"], "人民币200,000元", context["fee_note"],
        "甲方（盖章）", "乙方（签字", "日期",
        document.number, document.formatted_code,
    ])
    body = flat(text)
    for number, clause in enumerate(context["clauses"], start=1):
        assert flat(clause["label"]) in body, clause["label"]
        assert flat(f"条款依据：{clause['article']}") in body
    assert "第一条" in body and f"第{'二三四五六七八九十'[len(context['clauses']) - 2]}条" in body
    # The rule book's placeholders are filled from the snapshot, never printed raw.
    assert "{unit_name}" not in text and "{start}" not in text
    assert flat(f"乙方作为{context['unit_name']}的{context['role_label']}") in body


@pytest.mark.parametrize("kind", [DocumentKind.WRITTEN_OPINION, DocumentKind.WORK_CERTIFICATE])
def test_generic_kinds_print_heading_fields_paragraphs_and_items(beijing, issue, kind):
    document = issue(beijing, kind)
    builder, _title = CONTEXT_BUILDERS[kind]
    context = builder(beijing)
    text = pdf_text(document_pdf(document))
    assert_contains_all(text, [
        context["heading"], *[f["label"] for f in context["fields"]], *[f["value"] for f in context["fields"]],
        *context["paragraphs"], *[i["label"] for i in context["items"]], *[i["value"] for i in context["items"]],
        document.number, document.formatted_code,
    ])


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_missing_optional_keys_do_not_break_rendering(beijing, issue, kind):
    document = issue(beijing, kind, context={}, title="最简文书")
    text = pdf_text(document_pdf(document))
    assert_contains_all(text, ["最简文书", document.number, document.formatted_code])
    if kind == DocumentKind.WRITTEN_OPINION:
        # the planner's (team's) own paper: signed by its author, never under the bureau's letterhead
        assert_contains_all(text, [document.holder_name])
        assert beijing.bureau_name not in flat(text)
    else:  # a snapshot that names no issuer falls back to the bureau
        assert_contains_all(text, [beijing.bureau_name])


def test_every_page_carries_footer_and_page_numbers(beijing, issue):
    document = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    text = pdf_text(document_pdf(document))
    pages = [flat(page) for page in text.split("\f") if page.strip()]
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"第{n}页共{len(pages)}页" in page
        assert document.formatted_code in page and document.number in page
        assert beijing.bureau_name in page


def test_rendering_twice_gives_identical_output(beijing, issue):
    document = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    first = document_pdf(document)
    second = document_pdf(document)
    assert pdf_text(first) == pdf_text(second)
    assert first == second  # no clock, no random identifiers


def test_pdf_uses_the_snapshot_not_the_live_subject(beijing, issue):
    from rpms.registry.models import Planner

    planner = Planner.objects.create(city=beijing, name="城市更新设计团队", employer="北京某规划设计研究院（虚构）")
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, subject=planner)
    Planner.objects.filter(pk=planner.pk).update(name="改名后的团队", employer="另一家单位")
    body = flat(pdf_text(document_pdf(document)))
    assert "城市更新设计团队" in body and "北京某规划设计研究院（虚构）" in body
    assert "改名后的团队" not in body and "另一家单位" not in body


def test_revoked_document_prints_its_status(beijing, issue, city_admin):
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE)
    valid_text = flat(pdf_text(document_pdf(document)))
    with transaction.atomic():
        document = document_revoke(actor=city_admin, document=document, reason="聘任决定已撤回")
    assert "已撤销" not in valid_text
    assert "已撤销" in flat(pdf_text(document_pdf(document)))


def test_context_markup_is_printed_as_text_not_interpreted(beijing, issue):
    context = generic_context(beijing, "书面意见")
    context["paragraphs"] = ['<img src="http://example.com/x.png">意见正文']
    document = issue(beijing, DocumentKind.WRITTEN_OPINION, context=context)
    assert '<imgsrc="http://example.com/x.png">意见正文' in flat(pdf_text(document_pdf(document)))


@pytest.fixture
def no_sockets(monkeypatch):
    """Records (and blocks) any attempt to open a network connection or resolve a name."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_remote_urls_in_a_template_are_refused_without_any_network_attempt(no_sockets):
    html = """<html lang="zh-Hans"><head>
      <link rel="stylesheet" href="https://example.com/style.css">
      <style>@import url("http://example.com/import.css"); body { background: url(http://example.com/bg.png); }
      @font-face { font-family: X; src: url(https://example.com/font.woff2); }</style></head>
      <body><p>核验测试</p><img src="http://example.com/x.png"><img src="file:///etc/hostname"></body></html>"""
    fetcher = local_only_fetcher()
    data = html_to_pdf(html, fetcher=fetcher)
    assert "核验测试" in pdf_text(data)
    assert no_sockets == []
    for url in ("http://example.com/x.png", "https://example.com/style.css", "http://example.com/import.css",
                "http://example.com/bg.png", "https://example.com/font.woff2", "file:///etc/hostname"):
        assert url in fetcher.refused


def test_inline_data_images_still_render(no_sockets):
    pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    fetcher = local_only_fetcher()
    html_to_pdf(f'<p>图</p><img src="{pixel}">', fetcher=fetcher)
    assert fetcher.refused == [] and no_sockets == []


def test_pdf_response_is_inline_pdf_with_a_chinese_rfc5987_filename(beijing, issue):
    document = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    response = document_pdf_response(document)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; ")
    assert f'filename="{document.number}.pdf"' in disposition
    assert "filename*=UTF-8''%E8%B4%A3%E4%BB%BB%E8%A7%84%E5%88%92%E5%B8%88" in disposition  # 责任规划师…
    assert "private" in response["Cache-Control"]

    download = document_pdf_response(document, filename="合同.pdf", inline=False)
    assert download["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in download["Content-Disposition"]
