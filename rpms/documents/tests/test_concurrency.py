"""Numbering under simultaneous issuers (PostgreSQL only: SQLite serialises writers)."""
import threading

import pytest
from django.db import connection, connections, transaction

from rpms.documents.models import DocumentKind, IssuedDocument
from rpms.documents.services import document_issue

from .conftest import contract_context


@pytest.mark.django_db(transaction=True)
def test_parallel_issuers_get_distinct_consecutive_numbers(reference, city_admin):
    if connection.vendor != "postgresql":
        pytest.skip("needs a real server transaction (PostgreSQL); SQLite serialises writers")
    beijing = reference["beijing"]
    context = contract_context(beijing)
    workers = 8
    barrier = threading.Barrier(workers)
    errors, numbers = [], []

    def issue_one():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                document = document_issue(actor=city_admin, city=beijing, kind=DocumentKind.APPOINTMENT_CONTRACT,
                                          title="责任规划师聘用合同", subject=beijing, context=context)
                numbers.append(document.sequence)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue_one) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == list(range(1, workers + 1))
    assert IssuedDocument.objects.filter(city=beijing, kind=DocumentKind.APPOINTMENT_CONTRACT).count() == workers
