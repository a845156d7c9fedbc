"""Finance and training lines on the role home pages (待办事项)."""
import datetime as dt

from rpms.finance import services
from rpms.finance.pending import finance_pending
from rpms.training.pending import training_pending

from .conftest import make_planner

D = dt.date


def test_the_finance_officer_sees_unpaid_allowances_and_the_district_overdue_fees(
        clock, pds_admin, pds_officer, pds_other_officer, pingdingshan, pds_units, appoint):
    clock.set(D(2026, 3, 1))
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], D(2026, 3, 1), fee_yuan=10000)
    services.fee_schedule_set(actor=pds_admin, appointment=appointment,
                              installments=[{"due_on": "2026-06-30", "amount_yuan": 10000}])
    clock.set(D(2027, 3, 2))
    services.allowances_generate(actor=pds_admin, city=pingdingshan)
    titles = {item.title: item for item in finance_pending(pds_admin)}
    assert titles["交通通讯补贴待支付"].count == 1 and "逾期 1" in titles["交通通讯补贴待支付"].due
    assert titles["服务费用逾期未付清"].count == 1
    assert [i.title for i in finance_pending(pds_officer)] == ["服务费用逾期未付清"]
    assert finance_pending(pds_other_officer) == []


def test_the_city_administrator_sees_declarations_to_confirm(city_admin, pds_admin, beijing):
    from rpms.training.services import training_record_create

    planner = make_planner(beijing)
    training_record_create(actor=planner.user, planner=planner, source="practice", title="社区规划宣讲",
                           date="2025-05-05", hours="2")
    [item] = training_pending(city_admin)
    assert item.count == 1 and item.url.endswith("?status=pending")
    assert training_pending(pds_admin) == []
    assert training_pending(planner.user) == []
