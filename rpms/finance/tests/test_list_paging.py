"""Issue #15: the service-fee list page and /api/v1/fee-payments are bounded — a page of rows (pager with the
filters kept), a fixed number of queries whatever the number of installments, totals and per-district sums from
one aggregate that equal a direct one, limit/offset on the API with a Chinese 400 past the cap."""
import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from rpms.finance import selectors
from rpms.finance.models import FeeInstallment, InstallmentStatus

from .conftest import make_planner

D = dt.date
START = D(2026, 9, 1)


@pytest.fixture
def fee_appointment(clock, district_haidian, beijing, wanshou, appoint):
    clock.set(START)
    return appoint(district_haidian, make_planner(beijing, "林清源"), wanshou, START, fee_yuan=120000)


def add_installments(appointment, count: int, *, first_seq: int = 1):
    rows = []
    for n in range(first_seq, first_seq + count):
        due = START + dt.timedelta(days=n)
        status = InstallmentStatus.PAID if n % 3 == 0 else InstallmentStatus.UNPAID
        rows.append(FeeInstallment(
            city=appointment.city, appointment=appointment, district=appointment.unit.district, term_no=1, seq=n,
            due_on=due, pay_by=due, amount_yuan=100 + n, status=status,
            paid_yuan=100 + n if status == InstallmentStatus.PAID else 0,
            settled_on=due if status == InstallmentStatus.PAID else None))
    FeeInstallment.objects.bulk_create(rows)


def queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response


def test_the_fee_page_keeps_its_query_count_and_pages(login, clock, fee_appointment, district_haidian):
    add_installments(fee_appointment, 3)
    clock.set(D(2026, 9, 20))
    client = login(district_haidian)
    few, _ = queries(client, "/finance/fees/")
    add_installments(fee_appointment, selectors.PAGE_SIZE * 2 + 7, first_seq=4)
    many, first = queries(client, "/finance/fees/?status=open")
    assert few == many
    html = first.content.decode()
    assert "第 1 页，共" in html and "下一页" in html and "上一页" not in html
    assert "status=open&amp;page=2" in html  # the filter kept in the pager's links
    assert html.count("聘期第") == selectors.PAGE_SIZE
    _, second = queries(client, "/finance/fees/?status=open&page=2")
    assert "第 2 页" in second.content.decode() and "上一页" in second.content.decode()
    for page in ("999999", "abc", "-1", "1e9", ""):
        assert client.get(f"/finance/fees/?page={page}").status_code == 200


def test_the_totals_equal_a_direct_aggregate(login, clock, fee_appointment, district_haidian):
    add_installments(fee_appointment, 80)
    clock.set(D(2026, 10, 15))
    on = clock.today
    queryset = selectors.fee_installment_list(user=district_haidian, city=fee_appointment.city, on=on)
    totals, by_district = selectors.fee_summary(queryset, on)
    direct = FeeInstallment.objects.aggregate(n=Count("id"), amount=Sum("amount_yuan"), paid=Sum("paid_yuan"))
    assert (totals["count"], totals["amount_total_yuan"], totals["paid_total_yuan"]) == (
        direct["n"], direct["amount"], direct["paid"])
    assert totals == {k: v for k, v in selectors.fee_totals(queryset, on).items() if k in totals}
    overdue = FeeInstallment.objects.exclude(status=InstallmentStatus.PAID).filter(pay_by__lt=on)
    assert totals["overdue_count"] == overdue.count()
    assert [row["count"] for row in by_district] == [80]


def test_the_api_pages_with_limit_and_offset(api_client, bearer, clock, fee_appointment, district_haidian):
    add_installments(fee_appointment, 3)
    clock.set(D(2026, 9, 20))
    headers = bearer(district_haidian)
    with CaptureQueriesContext(connection) as few:
        small = api_client.get("/api/v1/fee-payments", **headers)
    add_installments(fee_appointment, 250, first_seq=4)
    with CaptureQueriesContext(connection) as many:
        big = api_client.get("/api/v1/fee-payments", **headers)
    assert small.status_code == big.status_code == 200
    assert len(few) == len(many)
    body = big.json()
    assert body["count"] == 253 and len(body["items"]) == 50 and body["limit"] == 50 and body["offset"] == 0
    assert set(body) >= {"count", "totals", "by_district", "items"}
    page = api_client.get("/api/v1/fee-payments?limit=200&offset=200", **headers).json()
    assert len(page["items"]) == 53 and page["items"][0]["seq"] == body["items"][0]["seq"] + 200
    refused = api_client.get("/api/v1/fee-payments?limit=201", **headers)
    assert refused.status_code == 400 and "limit 应为 1 至 200 的整数" in refused.json()["message"]
    assert api_client.get("/api/v1/fee-payments?offset=abc", **headers).status_code == 400


@pytest.fixture
def api_client():
    from django.test import Client

    return Client()
