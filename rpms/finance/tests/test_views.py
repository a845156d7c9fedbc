"""Finance pages: the allowance list with totals and Excel, paying from the detail page, the fee schedule page."""
import datetime as dt
from io import BytesIO

import pytest
from openpyxl import load_workbook

from rpms.finance.models import Allowance, AllowanceStatus, FeeInstallment, FeePayment

from .conftest import make_planner

D = dt.date
START = D(2026, 3, 1)


@pytest.fixture
def pds_due(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    appoint(pds_admin, make_planner(pingdingshan, "韩若溪"), pds_units[0], START)
    clock.set(D(2027, 3, 2))
    return pds_admin


def test_the_finance_officer_generates_then_pays_from_the_pages(login, pds_due, pds_admin):
    client = login(pds_admin)
    page = client.get("/finance/allowances/")
    assert page.status_code == 200
    assert "生成到期补贴" in page.content.decode()
    response = client.post("/finance/allowances/generate/", {"date": "2027-03-02"})
    assert response.status_code == 302
    row = Allowance.objects.get()
    page = client.get("/finance/allowances/?status=overdue").content.decode()
    assert "韩若溪" in page and "已逾期" in page and "5000" in page
    bad = client.post(f"/finance/allowances/{row.pk}/", {"paid_on": "2027-03-01", "voucher_no": ""})
    assert bad.status_code == 400 and "请填写支付凭证号" in bad.content.decode()
    done = client.post(f"/finance/allowances/{row.pk}/", {"paid_on": "2027-03-01", "voucher_no": "PZ-1"})
    assert done.status_code == 302
    row.refresh_from_db()
    assert row.status == AllowanceStatus.PAID and row.voucher_no == "PZ-1"


def test_the_allowance_list_exports_to_excel(login, pds_due, pds_admin, pingdingshan):
    from rpms.finance.services import allowances_generate

    allowances_generate(actor=pds_admin, city=pingdingshan)
    response = login(pds_admin).get("/finance/allowances/?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["明细", "按区汇总", "按责任规划师汇总", "合计", "历史记录核对"]
    rows = list(workbook["明细"].values)
    assert rows[0][0] == "区" and "应付金额（元）" in rows[0]
    assert rows[1][2] == "韩若溪" and rows[1][rows[0].index("应付金额（元）")] == 5000
    assert rows[1][rows[0].index("状态")] == "已逾期"
    by_planner = list(workbook["按责任规划师汇总"].values)
    assert by_planner[1][0] == "韩若溪" and by_planner[1][by_planner[0].index("逾期金额（元）")] == 5000
    assert list(workbook["合计"].values)[1][1] == 5000


def test_a_hiring_entity_may_not_open_the_allowance_list(login, street_office):
    assert login(street_office).get("/finance/allowances/").status_code == 403


def test_the_allowance_link_is_shown_only_to_those_who_may_open_it(login, street_office, city_admin):
    """Issue #17 item 2: a street office's 服务费用 page linked to 交通通讯补贴, which answers it 403."""
    street_page = login(street_office).get("/finance/fees/")
    assert street_page.status_code == 200
    assert 'href="/finance/allowances/"' not in street_page.content.decode()
    assert 'href="/finance/allowances/"' in login(city_admin).get("/finance/fees/").content.decode()


def test_a_district_officer_cannot_pay(login, pds_due, pds_admin, pds_officer, pingdingshan):
    from rpms.finance.services import allowances_generate

    [row] = allowances_generate(actor=pds_admin, city=pingdingshan)
    client = login(pds_officer)
    page = client.get(f"/finance/allowances/{row.pk}/")
    assert page.status_code == 200 and "登记支付" not in page.content.decode()
    assert client.post(f"/finance/allowances/{row.pk}/", {"paid_on": "2027-03-01", "voucher_no": "X"}).status_code == 403


def test_the_hiring_entity_sets_the_schedule_and_pays_on_the_page(login, clock, district_haidian, street_office, beijing,
                                                                   wanshou, appoint):
    clock.set(D(2026, 9, 1))
    appointment = appoint(district_haidian, make_planner(beijing), wanshou, D(2026, 9, 1), fee_yuan=80000)
    client = login(street_office)
    url = f"/finance/fees/appointments/{appointment.pk}/"
    assert "制定第 1 聘期付款计划" in client.get(url).content.decode()
    wrong = client.post(url, {"action": "schedule", "grace_working_days": "0", "due_on": ["2026-12-31", ""],
                              "amount_yuan": ["50000", ""], "note": ["", ""]})
    assert wrong.status_code == 400 and "不一致" in wrong.content.decode()
    ok = client.post(url, {"action": "schedule", "grace_working_days": "2", "due_on": ["2026-12-31", "2027-08-31", ""],
                           "amount_yuan": ["50000", "30000", ""], "note": ["首付", "", ""]})
    assert ok.status_code == 302
    first = FeeInstallment.objects.get(seq=1)
    clock.set(D(2027, 1, 6))
    listing = login(district_haidian).get("/finance/fees/?status=overdue").content.decode()
    assert "逾期未付清单" in listing and appointment.unit.name in listing
    client = login(street_office)  # months later: a new session (the earlier one lapsed)
    paid = client.post(url, {"action": "pay", "installment": str(first.pk), "paid_on": "2027-01-05",
                             "amount_yuan": "50000", "voucher_no": "WS-1"})
    assert paid.status_code == 302
    assert FeePayment.objects.get().voucher_no == "WS-1"
    page = client.get(url).content.decode()
    assert "已有付款记录" in page and "WS-1" in page


def test_the_fee_list_exports_the_overdue_list(login, clock, district_haidian, beijing, wanshou, appoint):
    from rpms.finance.services import fee_schedule_set

    clock.set(D(2026, 9, 1))
    appointment = appoint(district_haidian, make_planner(beijing), wanshou, D(2026, 9, 1), fee_yuan=80000)
    fee_schedule_set(actor=district_haidian, appointment=appointment,
                     installments=[{"due_on": "2026-09-30", "amount_yuan": 80000}])
    clock.set(D(2026, 10, 9))
    response = login(district_haidian).get("/finance/fees/?status=overdue&export=xlsx")
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert len(rows) == 2 and rows[1][rows[0].index("状态")] == "已逾期"
