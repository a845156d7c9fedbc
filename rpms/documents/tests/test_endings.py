"""A document ends with what it is about: `documents_subject_ended` marks a subject's valid documents
with the last day and the kind of ending; `valid_until` ends a term's documents the day after it.
"Ended" is computed from these dates, on the day itself for an ending, and the verification API and
page say so in Chinese."""
import datetime as dt

import pytest
from django.db import transaction

from rpms.documents.models import DocumentKind, DocumentStatus, IssuedDocument
from rpms.documents.selectors import public_verification
from rpms.documents.services import document_revoke, documents_subject_ended, documents_subject_extended

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


@pytest.fixture
def today(clock):
    """The system's clock (root conftest) on DAY; today.set(date) moves it."""
    clock.set(DAY)
    return clock


@pytest.fixture
def planner(beijing):
    from rpms.registry.models import Planner

    return Planner.objects.create(city=beijing, name="城市更新设计团队")


def end(subject, on, ending="termination", label="解除聘用合同"):
    with transaction.atomic():
        return documents_subject_ended(subject=subject, ended_on=on, ending=ending, ending_label=label)


@pytest.mark.django_db(transaction=True)
def test_ending_outside_the_callers_transaction_is_refused(beijing, issue, planner):
    issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner)
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        documents_subject_ended(subject=planner, ended_on=DAY, ending="termination", ending_label="解除聘用合同")
    with pytest.raises(ValueError):
        end(planner, DAY, label="")


def test_only_the_subjects_valid_documents_are_marked(beijing, issue, planner, city_admin, today):
    contract = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner)
    revoked = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE, subject=planner)
    with transaction.atomic():
        document_revoke(actor=city_admin, document=revoked, reason="证书信息有误")
    old_notice = issue(beijing, DocumentKind.DISPATCH_NOTICE, subject=planner)
    notice = issue(beijing, DocumentKind.DISPATCH_NOTICE, subject=planner, supersedes=old_notice)
    elsewhere = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=beijing)

    marked = end(planner, DAY)

    assert {d.pk for d in marked} == {contract.pk, notice.pk}
    rows = {d.pk: d for d in IssuedDocument.objects.all()}
    assert rows[revoked.pk].status == DocumentStatus.REVOKED and rows[revoked.pk].ended_on is None
    assert rows[old_notice.pk].status == DocumentStatus.SUPERSEDED and rows[old_notice.pk].ended_on is None
    assert rows[elsewhere.pk].ended_on is None
    assert public_verification(rows[revoked.pk])["status"] == "revoked"
    assert public_verification(rows[old_notice.pk])["status"] == "superseded"
    assert public_verification(rows[contract.pk])["status"] == "ended"


def test_an_ending_counts_from_its_own_day(beijing, issue, planner, today):
    contract = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner)
    end(planner, DAY + dt.timedelta(days=3), ending="withdrawal", label="退出派驻")
    contract.refresh_from_db()

    today.set(DAY)
    ahead = public_verification(contract)
    assert ahead["status"] == "valid" and ahead["ends_on"] == "2026-06-04" and ahead["ends_label"] == "退出派驻"
    today.set(DAY + dt.timedelta(days=3))
    ended = public_verification(contract)
    assert (ended["status"], ended["ended_on"], ended["ending"], ended["ending_label"]) == (
        "ended", "2026-06-04", "withdrawal", "退出派驻")
    assert ended["valid"] is False and ended["ends_on"] is None

    end(planner, DAY, ending="removal", label="调出资源库")  # an earlier ending replaces it
    contract.refresh_from_db()
    assert public_verification(contract)["ending_label"] == "调出资源库"
    assert public_verification(contract)["ended_on"] == DAY.isoformat()


def test_a_term_ends_the_day_after_valid_until_and_extension_moves_it(beijing, issue, planner, today):
    notice = issue(beijing, DocumentKind.DISPATCH_NOTICE, subject=planner, valid_until=DAY)
    today.set(DAY)
    assert public_verification(notice)["status"] == "valid"
    today.set(DAY + dt.timedelta(days=1))
    answer = public_verification(notice)
    assert (answer["status"], answer["ended_on"], answer["ending"], answer["ending_label"]) == (
        "ended", DAY.isoformat(), "expiry", "聘期届满")

    with transaction.atomic():
        documents_subject_extended(subject=planner, valid_until=DAY + dt.timedelta(days=365))
    notice.refresh_from_db()
    assert public_verification(notice)["status"] == "valid"
    assert public_verification(notice)["valid_until"] == "2027-06-01"


def test_the_api_and_the_page_say_ended_with_the_date_and_kind(beijing, issue, planner, today, anon):
    contract = issue(beijing, DocumentKind.APPOINTMENT_CONTRACT, subject=planner, valid_until=DAY + dt.timedelta(days=200))
    end(planner, DAY)

    body = anon.get(f"/api/v1/documents/verify/{contract.verification_code}").json()
    assert body["valid"] is False and body["status"] == "ended" and body["status_label"] == "已终止"
    assert body["ended_on"] == "2026-06-01" and body["ending_label"] == "解除聘用合同"
    assert body["valid_until"] == "2026-12-18"
    html = anon.get(f"/verify/{contract.verification_code}/").content.decode()
    assert "所涉聘任已于 <strong>2026-06-01</strong> <strong>因解除聘用合同而终止</strong>" in html
    assert "2026-06-01（解除聘用合同）" in html and "目前<strong>有效</strong>" not in html
