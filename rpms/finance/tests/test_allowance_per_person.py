"""Issue #12 item 3: the allowance is the person's (P6(3): 交通、通讯等费用按照每年 5000 元/人标准，每个服务周期末
支付). A planner serving two units in one cycle gets ONE allowance, pro rata to the days served in any unit
(the union of the days of all their appointments, not the sum); the cycle is the person's — from the first
day of their first appointment in the city, yearly. The per-appointment rows of before are reconciled by a
data migration that keeps what was paid and shows the difference."""
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.core.models import ActionLog
from rpms.finance import selectors, services
from rpms.finance.models import Allowance, AllowanceKind, AllowanceReconciliation, AllowanceStatus
from rpms.finance.reconcile import reconcile_legacy_allowances
from rpms.testing.pdfs import TINY_PDF

from .conftest import make_planner, units_of

D = dt.date
START = D(2026, 3, 1)
CYCLE_END = D(2027, 2, 28)


@pytest.fixture
def two_districts_units(pds_units, pds_other_district):
    """A unit in Pingdingshan's first district and one in its second."""
    return pds_units[0], units_of(pds_other_district, 1)[0]


def _evidence():
    return SimpleUploadedFile("证据.pdf", TINY_PDF, content_type="application/pdf")


def _end_early(actor, appointment, day, clock):
    """B25/P6(5): the appointment's last day is `day` (the entity ends it for the planner's breach)."""
    from rpms.appointments.services import termination_request

    clock.set(day)
    termination_request(actor=actor, appointment=appointment, initiator="entity", facts="未按合同履行工作任务",
                        breach="work_tasks", effective_date=day, evidence=[_evidence()])


def test_a_planner_serving_two_units_for_a_whole_cycle_has_exactly_one_5000_yuan_allowance(
        clock, pds_admin, pingdingshan, two_districts_units, appoint, pds_officer, pds_other_officer):
    clock.set(START)
    planner = make_planner(pingdingshan, "韩若溪")
    first = appoint(pds_admin, planner, two_districts_units[0], START)
    second = appoint(pds_admin, planner, two_districts_units[1], START)
    clock.set(CYCLE_END)
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert Allowance.objects.filter(planner=planner).count() == 1
    row.refresh_from_db()
    assert (row.amount_yuan, row.kind, row.cycle_no, row.cycle_start, row.cycle_end) == (
        5000, AllowanceKind.CYCLE, 1, START, CYCLE_END)
    assert (row.days_served, row.days_in_cycle, row.partial) == (365, 365, False)
    assert set(row.appointments.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert "同时服务多个责任单元的日子只计一次" in row.basis and "P6(3)" in row.basis
    [log] = ActionLog.objects.filter(action="finance.allowances_generate")
    assert log.article == "P6(3)" and log.after["rows"][0]["appointments"] == [first.pk, second.pk]
    # both districts see the one allowance; neither sees a second
    assert [a.pk for a in selectors.allowance_list(user=pds_officer)] == [row.pk]
    assert [a.pk for a in selectors.allowance_list(user=pds_other_officer)] == [row.pk]
    selectors.allowance_get(user=pds_other_officer, pk=row.pk)
    # idempotent: nothing more for the same cycle, however often it runs
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []
    assert selectors.allowance_totals(Allowance.objects.filter(planner=planner))["total_yuan"] == 5000


def test_overlapping_partial_appointments_are_paid_pro_rata_to_the_union_of_days(
        clock, pds_admin, pingdingshan, two_districts_units, appoint, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    clock.set(START)
    planner = make_planner(pingdingshan)
    first = appoint(pds_admin, planner, two_districts_units[0], START)
    clock.set(D(2026, 6, 1))
    second = appoint(pds_admin, planner, two_districts_units[1], D(2026, 6, 1))
    _end_early(pds_admin, first, D(2026, 9, 30), clock)  # served 2026-03-01 … 09-30: 214 days
    _end_early(pds_admin, second, D(2026, 11, 30), clock)  # served 2026-06-01 … 11-30: 183 days
    clock.set(D(2026, 11, 29))
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []  # the person still serves
    clock.set(D(2026, 11, 30))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    # the union 2026-03-01 … 11-30 is 275 days (the sum, 397, would exceed the year):
    # 5000 × 275 ÷ 365 = 3767.12 → 3767, due on the last day served
    assert (row.days_served, row.days_in_cycle, row.partial) == (275, 365, True)
    assert row.amount_yuan == 3767 and row.due_on == D(2026, 11, 30) and row.served_until == D(2026, 11, 30)
    assert "275 ÷ 365" in row.basis
    # counted under the appointment that served most days of the cycle
    assert row.appointment == first and row.district == first.unit.district
    assert set(row.appointments.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []


def test_the_cycle_is_the_persons_and_a_later_stretch_in_it_is_supplemented(
        clock, pds_admin, pingdingshan, two_districts_units, appoint, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    clock.set(START)
    planner = make_planner(pingdingshan)
    first = appoint(pds_admin, planner, two_districts_units[0], START)
    _end_early(pds_admin, first, D(2026, 5, 31), clock)
    [early] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert (early.days_served, early.amount_yuan) == (92, 1260)  # 5000 × 92 ÷ 365 = 1260.27
    services.allowance_pay(actor=pds_admin, allowance=early, paid_on="2026-05-31", voucher_no="PDS-2026-0100")
    # serving again in the same (person's) cycle, in another unit, from 1 September
    clock.set(D(2026, 9, 1))
    later = appoint(pds_admin, planner, two_districts_units[1], D(2026, 9, 1))
    clock.set(CYCLE_END)
    [supplement] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    # cycle 1 (2026-03-01 … 2027-02-28): 92 + 181 = 273 days → 3740 in all, 1260 recorded: 2480 more
    assert (supplement.kind, supplement.seq, supplement.cycle_no, supplement.cycle_start) == (
        AllowanceKind.SUPPLEMENT, 2, 1, START)
    assert (supplement.days_served, supplement.amount_yuan) == (273, 2480)
    assert "此前本周期已记 1,260 元，本次补记 2,480 元" in supplement.basis
    assert set(supplement.appointments.values_list("pk", flat=True)) == {first.pk, later.pk}
    # cycle 2 is the person's (2027-03-01 …), not the later appointment's own year (2026-09-01 …)
    clock.set(D(2027, 8, 31))
    [second_cycle] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert (second_cycle.cycle_no, second_cycle.cycle_start, second_cycle.served_until, second_cycle.days_served) == (
        2, D(2027, 3, 1), D(2027, 8, 31), 184)
    assert second_cycle.days_in_cycle == 366 and second_cycle.amount_yuan == 2514  # 5000 × 184 ÷ 366 = 2513.66
    assert list(second_cycle.appointments.all()) == [later]
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []


def test_beijing_pays_no_allowance_however_many_units(clock, city_admin, beijing, haidian, appoint):
    clock.set(START)
    planner = make_planner(beijing)
    for unit in units_of(haidian, 2):
        appoint(city_admin, planner, unit, START)
    clock.set(D(2027, 6, 1))
    assert beijing.policy.allowance_yuan_per_person_year is None
    assert services.allowances_generate(actor=city_admin, city=beijing) == []
    assert not Allowance.objects.exists()


# --- the reconciliation of the per-appointment rows of before (migration finance 0003) -------------------------


def _legacy_row(appointment, *, amount=5000, paid_voucher=None, cycle_start=START, served_until=CYCLE_END, days=365):
    """A row as the per-appointment generation wrote it before issue #12."""
    return Allowance.objects.create(
        city=appointment.city, appointment=appointment, planner=appointment.planner, district=appointment.unit.district,
        unit=appointment.unit, kind=AllowanceKind.LEGACY, cycle_no=1, cycle_start=cycle_start, cycle_end=CYCLE_END,
        served_until=served_until, days_served=days, days_in_cycle=365, partial=days < 365, persons=1, rate_yuan=5000,
        amount_yuan=amount, basis="按聘任计发", due_on=served_until,
        status=AllowanceStatus.PAID if paid_voucher else AllowanceStatus.DUE,
        paid_on=D(2027, 3, 5) if paid_voucher else None, voucher_no=paid_voucher or "",
    )


@pytest.fixture
def two_postings(clock, pds_admin, pingdingshan, two_districts_units, appoint):
    """Planners each serving two units for the whole first cycle."""
    def _make(name):
        clock.set(START)
        planner = make_planner(pingdingshan, name)
        return [appoint(pds_admin, planner, unit, START) for unit in two_districts_units]
    return _make


def test_the_migration_keeps_duplicate_payments_and_shows_the_overpayment(clock, pds_admin, pingdingshan, two_postings):
    first, second = two_postings("重复已付")
    clock.set(D(2027, 3, 10))
    kept = [_legacy_row(first, paid_voucher="PDS-2027-0001"), _legacy_row(second, paid_voucher="PDS-2027-0002")]
    [record] = reconcile_legacy_allowances(today=clock.today)
    assert (record.due_yuan, record.paid_yuan, record.difference_yuan, record.legacy_count) == (5000, 10000, 5000, 2)
    assert record.difference_label == "多付 5000 元" and record.cycle_start == START and record.cycle_closed
    assert "多付 5000 元" in record.note and "PDS-2027-0001" in record.note and "保留不删" in record.note
    # paid rows are never deleted: both kept, unchanged, linked to the reconciliation
    for row in kept:
        row.refresh_from_db()
        assert row.status == AllowanceStatus.PAID and row.amount_yuan == 5000 and row.reconciliation == record
        assert row.kind == AllowanceKind.LEGACY
    [log] = ActionLog.objects.filter(action="finance.allowance_reconcile")
    assert log.article == "P6(3)" and log.city_code == "pingdingshan" and log.actor_repr == "系统"
    assert log.after["reconciliations"][0]["difference_yuan"] == 5000
    # overpaid: nothing more is generated for the cycle; a second reconciliation changes nothing
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []
    assert reconcile_legacy_allowances(today=clock.today) == []
    assert AllowanceReconciliation.objects.count() == 1 and Allowance.objects.count() == 2


def test_the_migration_removes_unpaid_duplicates_and_the_person_is_owed_the_rest(clock, pds_admin, pingdingshan,
                                                                                 two_postings):
    paid_one, unpaid_one = two_postings("一付一未付")
    both_unpaid = two_postings("两条未付")
    clock.set(D(2027, 3, 10))
    kept = _legacy_row(paid_one, amount=2500, paid_voucher="PDS-2027-0003")
    _legacy_row(unpaid_one)
    for appointment in both_unpaid:
        _legacy_row(appointment)
    records = {r.planner.name: r for r in reconcile_legacy_allowances(today=clock.today)}
    mixed, none_paid = records["一付一未付"], records["两条未付"]
    assert (mixed.due_yuan, mixed.paid_yuan, mixed.difference_yuan) == (5000, 2500, -2500)
    assert (mixed.removed_unpaid_count, mixed.removed_unpaid_yuan) == (1, 5000) and "少付 2500 元" in mixed.note
    assert (none_paid.paid_yuan, none_paid.difference_yuan, none_paid.removed_unpaid_count) == (0, -5000, 2)
    kept.refresh_from_db()
    assert kept.reconciliation == mixed and kept.status == AllowanceStatus.PAID
    assert Allowance.objects.filter(status=AllowanceStatus.DUE).count() == 0
    # the next generation records what each person is still owed, once
    rows = {r.planner.name: r for r in services.allowances_generate(actor=pds_admin, city=pingdingshan)}
    assert rows["一付一未付"].amount_yuan == 2500 and rows["一付一未付"].kind == AllowanceKind.SUPPLEMENT
    assert "此前本周期已记 2,500 元" in rows["一付一未付"].basis
    assert rows["两条未付"].amount_yuan == 5000
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []


def test_a_row_that_already_is_the_persons_allowance_becomes_it(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START)
    clock.set(D(2027, 3, 10))
    row = _legacy_row(appointment, paid_voucher="PDS-2027-0009")
    assert reconcile_legacy_allowances(today=clock.today) == []
    row.refresh_from_db()
    assert (row.kind, row.seq, row.reconciliation_id, row.status) == (AllowanceKind.CYCLE, 1, None, AllowanceStatus.PAID)
    assert list(row.appointments.all()) == [appointment]
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []
    assert ActionLog.objects.get(action="finance.allowance_reconcile").after["converted"] == [row.pk]


# --- lists, API and pages ---------------------------------------------------------------------------------------


def _persons_with_two_units(clock, pds_admin, pingdingshan, units, appoint, n):
    clock.set(START)
    for i in range(n):
        planner = make_planner(pingdingshan)
        appoint(pds_admin, planner, units[2 * i], START)
        appoint(pds_admin, planner, units[2 * i + 1], START)
    clock.set(D(2027, 3, 1))
    services.allowances_generate(actor=pds_admin, city=pingdingshan)


def test_lists_keep_a_constant_query_count(clock, pds_admin, pingdingshan, pds_districts, appoint, client, bearer, login,
                                           django_assert_max_num_queries):
    units = [u for d in pds_districts for u in units_of(d, 12)][:12]
    assert len(units) == 12
    _persons_with_two_units(clock, pds_admin, pingdingshan, units[:4], appoint, 2)
    headers = bearer(pds_admin)
    with CaptureQueriesContext(connection) as small_api:
        assert client.get("/api/v1/allowances", **headers).status_code == 200
    pages = login(pds_admin)
    with CaptureQueriesContext(connection) as small_page:
        assert pages.get("/finance/allowances/").status_code == 200
    _persons_with_two_units(clock, pds_admin, pingdingshan, units[4:12], appoint, 4)
    assert Allowance.objects.count() == 6
    with django_assert_max_num_queries(len(small_api.captured_queries)):
        response = client.get("/api/v1/allowances", **headers)
    assert all(len(item["appointments"]) == 2 for item in response.json()["items"])
    with django_assert_max_num_queries(len(small_page.captured_queries)):
        assert pages.get("/finance/allowances/").status_code == 200


def test_the_api_and_pages_show_the_units_covered_and_the_reconciliation(
        clock, pds_admin, pingdingshan, two_postings, client, bearer, login):
    first, second = two_postings("两单元规划师")
    clock.set(D(2027, 3, 10))
    _legacy_row(first, paid_voucher="PDS-2027-0011")
    _legacy_row(second, paid_voucher="PDS-2027-0012")
    reconcile_legacy_allowances(today=clock.today)
    other_first, other_second = two_postings("按人补贴规划师")
    clock.set(D(2027, 3, 10))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    item = client.get(f"/api/v1/allowances/{row.pk}", **bearer(pds_admin)).json()
    assert item["kind"] == "cycle" and item["amount_yuan"] == 5000
    assert [a["id"] for a in item["appointments"]] == [other_first.pk, other_second.pk]
    assert {a["unit"] for a in item["appointments"]} == {other_first.unit.name, other_second.unit.name}
    recs = client.get("/api/v1/allowances/reconciliations", **bearer(pds_admin)).json()
    assert recs["count"] == 1
    [rec] = recs["items"]
    assert (rec["due_yuan"], rec["paid_yuan"], rec["difference_yuan"]) == (5000, 10000, 5000)
    assert [k["voucher_no"] for k in rec["kept_rows"]] == ["PDS-2027-0011", "PDS-2027-0012"]
    planner_view = client.get("/api/v1/allowances/reconciliations", **bearer(first.planner.user)).json()
    assert planner_view["count"] == 1
    assert client.get("/api/v1/allowances/reconciliations", **bearer(other_first.planner.user)).json()["count"] == 0

    admin = login(pds_admin)
    page = admin.get("/finance/allowances/").content.decode()
    assert "历史记录核对（改为按人计发）" in page and "多付 5000 元" in page and "按人计发" in page
    assert f"{other_first.unit.name}、{other_second.unit.name}" in page
    detail = admin.get(f"/finance/allowances/{row.pk}/").content.decode()
    assert "本补贴覆盖的派驻聘任" in detail and other_second.unit.name in detail
    legacy = Allowance.objects.filter(kind="legacy").first()
    assert "多付 5000 元" in admin.get(f"/finance/allowances/{legacy.pk}/").content.decode()
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(admin.get("/finance/allowances/?export=xlsx").content))
    rows = list(workbook["历史记录核对"].values)
    assert rows[1][0] == "两单元规划师" and rows[1][rows[0].index("差额（元，已付 − 应付）")] == 5000
    detail_rows = list(workbook["明细"].values)
    covered = detail_rows[0].index("覆盖的派驻（责任单元）")
    assert any(r[covered] == f"{other_first.unit.name}、{other_second.unit.name}" for r in detail_rows[1:])


def test_paying_the_persons_allowance_is_audited_once(clock, pds_admin, pingdingshan, two_postings):
    first, _ = two_postings("付款规划师")
    clock.set(D(2027, 3, 10))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    services.allowance_pay(actor=pds_admin, allowance=row, paid_on="2027-03-09", voucher_no="PDS-2027-0200")
    [log] = ActionLog.objects.filter(action="finance.allowance_pay")
    assert log.article == "P6(3)" and log.after["amount_yuan"] == 5000
    assert json.dumps(log.after, ensure_ascii=False).count("PDS-2027-0200") == 1


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_itself_reconciles_the_rows_of_before(clock, pds_admin, pingdingshan, two_districts_units,
                                                                 appoint):
    """Migrating finance from 0001 (per-appointment rows) to the latest: duplicates reconciled, payments kept."""
    from django.db.migrations.executor import MigrationExecutor

    clock.set(START)
    planner = make_planner(pingdingshan, "迁移测试规划师")
    first, second = (appoint(pds_admin, planner, unit, START) for unit in two_districts_units)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("finance")
    executor.migrate([("finance", "0001_initial")])
    old_apps = executor.loader.project_state([("finance", "0001_initial")]).apps
    OldAllowance = old_apps.get_model("finance", "Allowance")
    for appointment, voucher in ((first, "PZ-OLD-1"), (second, "")):
        OldAllowance.objects.create(
            city_id=pingdingshan.pk, appointment_id=appointment.pk, planner_id=planner.pk,
            district_id=appointment.unit.district_id, unit_id=appointment.unit_id, cycle_no=1, cycle_start=START,
            cycle_end=CYCLE_END, served_until=CYCLE_END, days_served=365, days_in_cycle=365, persons=1, rate_yuan=5000,
            amount_yuan=5000, basis="按聘任计发", due_on=CYCLE_END, status="paid" if voucher else "due",
            paid_on=D(2027, 3, 1) if voucher else None, voucher_no=voucher,
        )
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    [kept] = Allowance.objects.all()
    assert kept.voucher_no == "PZ-OLD-1" and kept.status == AllowanceStatus.PAID and kept.kind == AllowanceKind.LEGACY
    record = AllowanceReconciliation.objects.get()
    assert kept.reconciliation == record
    assert (record.due_yuan, record.paid_yuan, record.difference_yuan, record.removed_unpaid_count) == (5000, 5000, 0, 1)
    assert "已付与应付一致" in record.note
    assert ActionLog.objects.filter(action="finance.allowance_reconcile", article="P6(3)").count() == 1
