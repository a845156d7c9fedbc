"""Issuing and revoking: inside the caller's transaction only, no personal identifiers, unique
codes, per-city/kind/year numbering, a content hash that follows the content, superseding and
revoking by the transition table, and no audit row of their own."""
import datetime
import hashlib
import json

import pytest
from django.db import transaction
from django.utils import timezone

from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.documents.integrity import content_hash, normalise_code
from rpms.documents.models import CODE_ALPHABET, DocumentKind, DocumentStatus, IssuedDocument
from rpms.documents.selectors import document_by_code, document_current, documents_for
from rpms.documents.services import document_issue, document_revoke

from .conftest import contract_context, dispatch_notice_context


def _issue_kwargs(city, actor, **overrides):
    return {
        "actor": actor, "city": city, "kind": DocumentKind.DISPATCH_NOTICE, "title": "责任规划师派驻通知",
        "subject": city, "context": dispatch_notice_context(city), "holder_name": "城市更新设计团队", **overrides,
    }


# --- the caller's transaction ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_issuing_outside_the_callers_transaction_is_refused(reference, city_admin):
    beijing = reference["beijing"]
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        document_issue(**_issue_kwargs(beijing, city_admin))
    assert IssuedDocument.objects.count() == 0
    with transaction.atomic():
        document = document_issue(**_issue_kwargs(beijing, city_admin))
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        document_revoke(actor=city_admin, document=document, reason="测试")
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


@pytest.mark.django_db(transaction=True)
def test_a_document_rolls_back_with_the_act_it_belongs_to(reference, city_admin):
    beijing = reference["beijing"]
    with pytest.raises(RuntimeError, match="act failed"), transaction.atomic():
        document_issue(**_issue_kwargs(beijing, city_admin))
        raise RuntimeError("the caller's act failed after issuing")
    assert IssuedDocument.objects.count() == 0


# --- personal identifiers --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("where, value", [
    ("top-level ID number", {"planner_name": "林若溪 110101199003071234"}),
    ("ID number ending in X inside a list of dicts", {"core_members": [{"name": "周明远", "specialty_label": "11010519850101123X"}]}),
    ("mobile number", {"contact_note": "联系电话 13800138000"}),
    ("mobile number with separators", {"contact_note": "联系电话：138-0013-8000"}),
    ("mobile number as an integer", {"leader_phone": 13912345678}),
    ("mobile number in a nested clause text", {"clauses": [{"code": "x", "label": "联系", "text": "乙方手机 139 1234 5678"}]}),
])
def test_a_context_with_an_id_or_mobile_number_is_refused(beijing, city_admin, where, value):
    context = {**dispatch_notice_context(beijing), **value}
    with pytest.raises(ValueError, match="身份证号或手机号"), transaction.atomic():
        document_issue(**_issue_kwargs(beijing, city_admin, context=context))
    assert IssuedDocument.objects.count() == 0


@pytest.mark.django_db
def test_a_holder_name_or_title_with_a_mobile_number_is_refused(beijing, city_admin):
    for overrides in ({"holder_name": "林若溪13800138000"}, {"title": "派驻通知 13800138000"}):
        with pytest.raises(ValueError), transaction.atomic():
            document_issue(**_issue_kwargs(beijing, city_admin, **overrides))
    assert IssuedDocument.objects.count() == 0


@pytest.mark.django_db
def test_dates_fees_landlines_and_numbers_are_not_mistaken_for_personal_data(beijing, city_admin):
    context = {**contract_context(beijing), "start": datetime.date(2026, 3, 9), "fee_yuan": 12000000,
               "contact_note": "街道服务热线 010-62345678，2026-03-09 起受理", "term_years": 3}
    with transaction.atomic():
        document = document_issue(**_issue_kwargs(beijing, city_admin, kind=DocumentKind.APPOINTMENT_CONTRACT, context=context))
    assert document.context["start"] == "2026-03-09"  # dates are stored as ISO strings


@pytest.mark.django_db
def test_hashes_and_codes_with_long_digit_runs_are_not_mistaken_for_personal_data(beijing, city_admin):
    # A sha256 in hex often holds 11+ digits in a row; bounded by letters it is not a phone or ID number.
    digest = "a3f1" + "13800138000" + "b" + "110101199003071234" + "c" * 31
    context = {**contract_context(beijing), "content_hash": digest, "reference": "DOC13912345678X"}
    with transaction.atomic():
        document = document_issue(**_issue_kwargs(beijing, city_admin, kind=DocumentKind.APPOINTMENT_CONTRACT, context=context))
    assert document.context["content_hash"] == digest


# --- numbers, codes, lookups -----------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_run_per_city_kind_and_year(beijing, pingdingshan, city_admin, issue):
    first = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    second = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    notice = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    other_city = issue(pingdingshan, DocumentKind.APPOINTMENT_CONTRACT)
    next_year = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT,
                      issued_at=timezone.make_aware(datetime.datetime(2031, 1, 2, 9, 0)))
    year = timezone.localdate().year
    assert first.number == f"BEIJING-PYHT-{year}-00001"
    assert second.number == f"BEIJING-PYHT-{year}-00002"
    assert notice.number == f"BEIJING-PZTZ-{year}-00001"
    assert other_city.number == f"PINGDINGSHAN-PYHT-{year}-00001"
    assert next_year.number == "BEIJING-PYHT-2031-00001"


@pytest.mark.django_db
def test_codes_are_unique_unambiguous_and_grouped(beijing, issue):
    documents = [issue(beijing, DocumentKind.WORK_CERTIFICATE) for _ in range(40)]
    codes = [d.verification_code for d in documents]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 16 and set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OIL")
    formatted = documents[0].formatted_code
    assert len(formatted) == 19 and formatted.count("-") == 3 and formatted.replace("-", "") == codes[0]


@pytest.mark.django_db
def test_lookups_ignore_case_spaces_and_dashes(beijing, issue):
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE)
    code = document.verification_code
    for typed in (code, code.lower(), document.formatted_code, " ".join([code[:4], code[4:8], code[8:12], code[12:]]),
                  f"  {document.formatted_code.lower()}  "):
        assert document_by_code(typed) == document, typed
    assert document_by_code("") is None
    assert document_by_code(code[:-1]) is None
    assert document_by_code(code[:-1] + "0") is None  # 0 is not in the alphabet
    assert normalise_code(None) is None


# --- content hash ----------------------------------------------------------------------------------


def test_content_hash_is_sha256_of_canonical_json_and_ignores_key_order():
    context = {"b": [1, "二"], "a": {"y": True, "x": None}}
    expected = hashlib.sha256(
        json.dumps({"kind": "written_opinion", "title": "书面意见", "number": "N-1", "context": context},
                   ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
    assert content_hash(kind="written_opinion", title="书面意见", number="N-1", context=context) == expected
    reordered = {"a": {"x": None, "y": True}, "b": [1, "二"]}
    assert content_hash(kind="written_opinion", title="书面意见", number="N-1", context=reordered) == expected


def test_content_hash_changes_with_any_part_of_the_content():
    base = {"kind": "appointment_contract", "title": "合同", "number": "N-1", "context": {"fee_yuan": 1000, "clauses": ["甲"]}}
    reference = content_hash(**base)
    assert content_hash(**{**base, "context": {"fee_yuan": 1001, "clauses": ["甲"]}}) != reference
    assert content_hash(**{**base, "context": {"fee_yuan": 1000, "clauses": ["乙"]}}) != reference
    assert content_hash(**{**base, "title": "合同（修订）"}) != reference
    assert content_hash(**{**base, "number": "N-2"}) != reference
    assert content_hash(**{**base, "kind": "dispatch_notice"}) != reference


@pytest.mark.django_db
def test_stored_hash_matches_the_stored_snapshot_until_it_is_tampered_with(beijing, issue):
    document = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    assert document.hash_matches()
    assert document.content_hash == content_hash(kind=document.kind, title=document.title,
                                                 number=document.number, context=contract_context(beijing))
    tampered = {**document.context, "fee_yuan": 999999}
    IssuedDocument.objects.filter(pk=document.pk).update(context=tampered)
    document.refresh_from_db()
    assert not document.hash_matches()


# --- superseding and revoking ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_document_supersedes_the_old_one(beijing, issue):
    old = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    new = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, supersedes=old)
    old.refresh_from_db()
    assert old.status == DocumentStatus.SUPERSEDED and old.superseded_at is not None
    assert new.supersedes == old and old.superseded_by == new and new.status == DocumentStatus.VALID
    with pytest.raises(Conflict):
        issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, supersedes=old)


@pytest.mark.django_db
def test_superseding_a_document_of_another_kind_is_refused(beijing, issue):
    contract = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    before = IssuedDocument.objects.count()
    with pytest.raises(DomainError):
        issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, supersedes=contract)
    contract.refresh_from_db()
    assert contract.status == DocumentStatus.VALID and IssuedDocument.objects.count() == before


@pytest.mark.django_db
def test_revoking_records_date_reason_and_only_once(beijing, issue, city_admin):
    document = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    with pytest.raises(DomainError), transaction.atomic():
        document_revoke(actor=city_admin, document=document, reason="  ")
    with transaction.atomic():
        revoked = document_revoke(actor=city_admin, document=document, reason="派驻人选调整")
    assert revoked.status == DocumentStatus.REVOKED and revoked.revoke_reason == "派驻人选调整"
    assert revoked.revoked_at is not None and revoked.revoked_by == city_admin
    with pytest.raises(Conflict), transaction.atomic():
        document_revoke(actor=city_admin, document=revoked, reason="再次撤销")
    with pytest.raises(Conflict):
        issue(beijing, DocumentKind.DISPATCH_NOTICE, supersedes=revoked)


@pytest.mark.django_db
def test_issuing_and_revoking_write_no_audit_row_of_their_own(beijing, issue, city_admin):
    before = ActionLog.objects.count()
    document = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    with transaction.atomic():
        document_revoke(actor=city_admin, document=document, reason="测试")
    assert ActionLog.objects.count() == before


# --- selectors ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_documents_for_a_subject_in_order_with_constant_queries(beijing, pingdingshan, issue, django_assert_max_num_queries):
    old = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT)
    notice = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    new = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, supersedes=old)
    issue(pingdingshan, DocumentKind.DISPATCH_NOTICE)  # another subject
    with django_assert_max_num_queries(1):
        found = documents_for(beijing)
        summary = [(d.number, d.city.name, d.status, getattr(d, "superseded_by", None)) for d in found]
    assert [d.pk for d in found] == [old.pk, notice.pk, new.pk]
    assert summary[0][3] == new
    assert documents_for(("cities.city", str(beijing.pk))) == found
    assert document_current(beijing, DocumentKind.APPOINTMENT_CONTRACT) == new
