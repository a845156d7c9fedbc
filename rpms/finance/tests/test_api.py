"""The finance API: /api/v1/allowances (+ pay, generate, summary), /api/v1/fee-schedules, /api/v1/fee-payments (+ pay)."""
import datetime as dt
import json

import pytest
from django.test import Client

from rpms.finance import services
from rpms.finance.models import Allowance

from .conftest import make_planner

D = dt.date
START = D(2026, 3, 1)


@pytest.fixture
def api():
    client = Client()

    def call(method, path, headers=None, body=None, **params):
        kwargs = dict(headers or {})
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


@pytest.fixture
def pds_rows(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    first = appoint(pds_admin, make_planner(pingdingshan, "韩若溪"), pds_units[0], START)
    appoint(pds_admin, make_planner(pingdingshan, "魏知行"), pds_units[1], START)
    clock.set(D(2027, 3, 2))
    services.allowances_generate(actor=pds_admin, city=pingdingshan)
    return first


def test_the_finance_list_shows_due_paid_and_overdue_with_totals(api, bearer, pds_admin, pds_rows):
    row = Allowance.objects.get(appointment=pds_rows)
    response = api("post", f"/allowances/{row.pk}/pay", bearer(pds_admin), {"paid_on": "2027-03-01", "voucher_no": "PZ-7"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid" and response.json()["voucher_no"] == "PZ-7"
    data = api("get", "/allowances", bearer(pds_admin)).json()
    assert data["count"] == 2
    assert data["totals"]["paid_yuan"] == 5000 and data["totals"]["overdue_yuan"] == 5000
    assert sorted(i["status_label"] for i in data["items"]) == ["已支付", "已逾期"]
    overdue = api("get", "/allowances", bearer(pds_admin), status="overdue").json()
    assert [i["planner"]["name"] for i in overdue["items"]] == ["魏知行"]
    summary = api("get", "/allowances/summary", bearer(pds_admin)).json()
    assert summary["by_district"][0]["total_yuan"] == 10000
    assert {p["planner_name"] for p in summary["by_planner"]} == {"韩若溪", "魏知行"}


def test_paying_twice_is_409_and_others_are_refused(api, bearer, pds_admin, pds_officer, street_office, city_admin, pds_rows):
    row = Allowance.objects.get(appointment=pds_rows)
    body = {"paid_on": "2027-03-01", "voucher_no": "PZ-7"}
    assert api("post", f"/allowances/{row.pk}/pay", {}, body).status_code == 401
    forbidden = api("post", f"/allowances/{row.pk}/pay", bearer(pds_officer), body)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert api("post", f"/allowances/{row.pk}/pay", bearer(city_admin), body).status_code == 404
    assert api("post", f"/allowances/{row.pk}/pay", bearer(pds_admin), body).status_code == 200
    again = api("post", f"/allowances/{row.pk}/pay", bearer(pds_admin), body)
    assert again.status_code == 409 and again.json()["code"] == "allowance_already_paid"
    assert "不能重复登记" in again.json()["message"]
    assert api("get", "/allowances", bearer(street_office)).status_code == 403


def test_a_planner_reads_only_its_own_allowances(api, bearer, pds_rows):
    data = api("get", "/allowances", bearer(pds_rows.planner.user)).json()
    assert [i["planner"]["name"] for i in data["items"]] == ["韩若溪"]
    other = Allowance.objects.exclude(appointment=pds_rows).get()
    assert api("get", f"/allowances/{other.pk}", bearer(pds_rows.planner.user)).status_code == 404


def test_generate_through_the_api_is_idempotent(api, bearer, clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START)
    clock.set(D(2027, 3, 1))
    first = api("post", "/allowances/generate", bearer(pds_admin), {"date": "2027-02-28"})
    assert first.status_code == 200 and first.json()["created"] == 1 and first.json()["total_yuan"] == 5000
    assert api("post", "/allowances/generate", bearer(pds_admin), {}).json()["created"] == 0
    future = api("post", "/allowances/generate", bearer(pds_admin), {"date": "2027-03-02"})
    assert future.status_code == 400 and future.json()["code"] == "date_in_future"


def test_bad_filters_are_a_chinese_400(api, bearer, pds_admin, pds_rows):
    response = api("get", "/allowances", bearer(pds_admin), status="whatever")
    assert response.status_code == 400 and "状态" in response.json()["message"]
    assert api("get", "/allowances", bearer(pds_admin), year="20x6").status_code == 400
    bad_pay = api("post", f"/allowances/{Allowance.objects.first().pk}/pay", bearer(pds_admin), {"paid_on": "x"})
    assert bad_pay.status_code == 422 and "voucher_no" in bad_pay.json()["message"]


def test_fee_schedule_and_payment_through_the_api(api, bearer, clock, district_haidian, street_office, district_chaoyang,
                                                  beijing, wanshou, appoint):
    clock.set(D(2026, 9, 1))
    appointment = appoint(district_haidian, make_planner(beijing), wanshou, D(2026, 9, 1), fee_yuan=90000)
    wrong = api("put", f"/fee-schedules/{appointment.pk}", bearer(street_office),
                {"installments": [{"due_on": "2026-09-30", "amount_yuan": 10000}]})
    assert wrong.status_code == 400 and wrong.json()["code"] == "fee_schedule_sum_mismatch"
    ok = api("put", f"/fee-schedules/{appointment.pk}", bearer(street_office),
             {"grace_working_days": 3, "installments": [{"due_on": "2026-09-30", "amount_yuan": 30000},
                                                         {"due_on": "2027-08-31", "amount_yuan": 60000}]})
    assert ok.status_code == 200, ok.content
    schedule = ok.json()
    assert [i["pay_by"] for i in schedule["installments"]] == ["2026-10-10", "2027-09-03"]
    assert schedule["can"] == {"set_schedule": True, "record_payment": True}
    assert api("get", f"/fee-schedules/{appointment.pk}", bearer(district_chaoyang)).status_code == 404

    clock.set(D(2026, 10, 12))
    overdue = api("get", "/fee-payments", bearer(district_haidian), status="overdue").json()
    assert [i["seq"] for i in overdue["items"]] == [1] and overdue["totals"]["overdue_yuan"] == 30000
    assert api("get", "/fee-payments", bearer(district_chaoyang), status="overdue").json()["count"] == 0

    first_id = schedule["installments"][0]["id"]
    refused = api("post", f"/fee-payments/{first_id}/pay", bearer(district_haidian),
                  {"paid_on": "2026-10-12", "amount_yuan": 30000, "voucher_no": "A1"})
    assert refused.status_code == 403
    paid = api("post", f"/fee-payments/{first_id}/pay", bearer(street_office),
               {"paid_on": "2026-10-12", "amount_yuan": 30000, "voucher_no": "A1"})
    assert paid.status_code == 201, paid.content
    assert paid.json()["status"] == "paid" and paid.json()["paid_on_time"] is False
    assert paid.json()["payments"][0]["voucher_no"] == "A1"
    assert api("get", "/fee-payments", bearer(district_haidian), status="overdue").json()["count"] == 0
