"""Bulk entry of running contracts (既有聘任导入, issue #11 item 10): the template, every row checked
like a single entry with errors per row and column in Chinese (planner by ID number or pool number,
unit by district and name or street code, terms, paper details, the same unit twice in the file, the
B19(2) cap counted over the file's rows), 全部导入 refused while errors remain, 只导入无误的行 entering
exactly the valid rows (documents, dossier, one audit row per contract), steps with progress, a row
taken meanwhile skipped, both cities, and scoping (a district officer's own districts and imports)."""
import datetime as dt
import io
import itertools
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from rpms.appointments import existing
from rpms.appointments import existing_import as bulk
from rpms.appointments.models import Appointment, AppointmentImport, AppointmentTerm
from rpms.core.identity import id_number_checksum
from rpms.core.models import ActionLog, ImportStatus
from rpms.documents.models import IssuedDocument
from rpms.registry.models import DossierEvent, DossierEventKind

from .conftest import make_planner, unit_of, units_of

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in bulk.COLUMNS]
BJ_TERMS = "2019-07-01~2020-06-30;2020-07-01~2023-06-30;2023-07-01~2026-06-30"
_seq = itertools.count(1)


def make_id(region="110108"):
    n = next(_seq)
    first17 = f"{region}1986{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def planner(city, name, **fields):
    return make_planner(city, name, id_number=make_id("110108" if city.code == "beijing" else "410402"), **fields)


def contract_row(person, unit, **overrides):
    row = {"姓名/团队名称": person.name, "身份证号": person.id_number, "资源库编号": "", "所在区": unit.district.name,
           "责任单元": unit.name, "派驻角色": "责任规划师", "聘期开始日期": "2019-07-01", "聘期（首聘及各次续聘）": BJ_TERMS,
           "纸质合同编号": f"合字第{next(_seq)}号", "合同签订日期": "2023-06-20", "服务费用（元）": 60000,
           "费用说明": "", "服务重点": "", "备注": ""}
    row.update(overrides)
    return row


def xlsx(rows, headers=HEADERS, name="既有聘任.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = bulk.SHEET_TITLE
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def upload(client, rows, city=None):
    data = {"file": xlsx(rows)}
    if city is not None:
        data["city"] = city.code
    return client.post("/appointments/existing/import/", data)


def cells(spreadsheet_import):
    return {(e["row"], e["column"]): e["message"] for e in spreadsheet_import.errors}


@pytest.fixture
def in_2026(clock):
    clock.set(dt.date(2026, 3, 1))
    return clock


def test_the_template_has_the_columns_and_the_citys_rules(login, city_admin, pds_admin):
    response = login(city_admin).get("/appointments/existing/import/template.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book[bulk.SHEET_TITLE][1]] == HEADERS
    notes = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "首聘 1 年，每次续聘 1 至 3 年（B19(2)）" in notes and "责任建筑师" in notes and "海淀区" in notes
    assert "B19(3)" in notes and "同时服务的责任单元不超过 3 个" in notes
    pds = load_workbook(io.BytesIO(login(pds_admin).get("/appointments/existing/import/template.xlsx").content))
    notes = " ".join(str(c.value) for row in pds["填写说明"].iter_rows() for c in row if c.value)
    assert "每次续聘 1 年（P6(4)）" in notes and "海淀区" not in notes and "新华区" in notes
    assert "同时服务的责任单元不超过" not in notes  # Pingdingshan sets no cap


@pytest.fixture
def mixed(beijing, haidian, chaoyang, in_2026):
    units = units_of(haidian, 6)
    wanshou = unit_of(beijing, "110108001")
    lin, he, zhou, candidate = (planner(beijing, n) for n in ("林清源", "何予安", "周以宁", "待入库者"))
    candidate.pool_status = "candidate"
    candidate.save()
    subdistrict = units[1].current_subdistricts[0]
    rows = [
        contract_row(lin, wanshou),                                                               # 2 valid
        contract_row(he, units[1], **{"身份证号": "", "资源库编号": he.pk, "责任单元": subdistrict.code,
                                      "聘期开始日期": "2025-09-01", "聘期（首聘及各次续聘）": "",
                                      "合同签订日期": "2025-08-25"}),                              # 3 valid
        contract_row(he, units[2], **{"身份证号": he.id_number[:-1] + ("0" if he.id_number[-1] != "0" else "1")}),  # 4
        contract_row(he, units[2], **{"姓名/团队名称": "何雨安"}),                                      # 5
        contract_row(he, units[2], **{"所在区": "浦东新区"}),                                         # 6
        contract_row(he, units[2], **{"聘期（首聘及各次续聘）": "2019-07-01~2020-06-30;2020-07-01~2024-06-30;2024-07-01~2027-06-30"}),  # 7
        contract_row(he, units[2], **{"聘期（首聘及各次续聘）": "2019-07-01~2020-06-30;2020-07-01~2023-06-30"}),  # 8
        contract_row(he, units[2], **{"纸质合同编号": ""}),                                           # 9
        contract_row(lin, wanshou),                                                               # 10 same as row 2
        contract_row(candidate, units[2]),                                                        # 11
        contract_row(he, units[2], **{"合同签订日期": "2026-05-01"}),                                  # 12
        contract_row(zhou, units[3]), contract_row(zhou, units[4]), contract_row(zhou, units[5]),  # 13–15 valid
        contract_row(zhou, units[2]),                                                             # 16 over the cap
    ]
    return {"rows": rows, "lin": lin, "he": he, "zhou": zhou, "units": units, "wanshou": wanshou}


def test_each_bad_row_is_reported_by_row_and_column_in_chinese(login, city_admin, mixed):
    client = login(city_admin)
    response = upload(client, mixed["rows"])
    assert response.status_code == 302
    imp = AppointmentImport.objects.get()
    assert (imp.total_rows, imp.valid_rows, imp.error_rows, imp.status) == (15, 5, 10, ImportStatus.VALIDATED)
    found = cells(imp)
    assert not {row for row, _ in found} & {2, 3, 13, 14, 15}
    assert "校验位" in found[(4, "身份证号")]
    assert "何予安" in found[(5, "姓名/团队名称")]
    assert "浦东新区" in found[(6, "所在区")] and "海淀区" in found[(6, "所在区")]
    assert "1 至 3 年（B19(2)）" in found[(7, "聘期（首聘及各次续聘）")]
    assert "届满" in found[(8, "聘期（首聘及各次续聘）")]
    assert "纸质聘用合同的编号" in found[(9, "纸质合同编号")]
    assert "第 2 行" in found[(10, "责任单元")]
    assert "资源库" in found[(11, "姓名/团队名称")]
    assert "不能晚于今天" in found[(12, "合同签订日期")]
    assert "不得超过 3 个（B19(2)）" in found[(16, "姓名/团队名称")]
    assert not Appointment.objects.exists()  # nothing entered yet

    page = client.get(f"/appointments/existing/import/{imp.pk}/").content.decode()
    assert "第 7 行" in page and "1 至 3 年" in page and "只导入无误的行" in page
    assert 'value="all" disabled' in page
    assert mixed["lin"].id_number not in page
    errors = load_workbook(io.BytesIO(client.get(f"/appointments/existing/import/{imp.pk}/errors.xlsx").content))
    assert {(r[0], r[1]) for r in errors.active.iter_rows(min_row=2, values_only=True)} == set(found)
    # the rows as typed (identity and mobile numbers): the export is audited (issue #16 item 4)
    from rpms.core.audit import ACTION_EXPORT
    from rpms.core.models import ActionLog

    exported = ActionLog.objects.filter(action=ACTION_EXPORT).order_by("-id").first()
    assert exported is not None and "既有聘任导入" in exported.summary and exported.object_id == str(imp.pk)


def test_import_all_is_refused_while_errors_remain_then_only_the_valid_rows_are_entered(
    login, bearer, client, city_admin, mixed
):
    page_client = login(city_admin)
    upload(page_client, mixed["rows"])
    imp = AppointmentImport.objects.get()
    refused = page_client.post(f"/appointments/existing/import/{imp.pk}/start/", {"mode": "all"})
    assert refused.status_code == 409 and "不能全部导入" in refused.content.decode()
    api = client.post(f"/api/v1/appointments/imports/{imp.pk}/run", data=json.dumps({"only_valid": False}),
                      content_type="application/json", **bearer(city_admin))
    assert api.status_code == 409 and "不能全部导入" in api.json()["detail"]
    assert not Appointment.objects.exists()

    assert page_client.post(f"/appointments/existing/import/{imp.pk}/start/", {"mode": "valid"}).status_code == 302
    page = page_client.get(f"/appointments/existing/import/{imp.pk}/").content.decode()
    assert "导入进度" in page and "继续导入" in page
    step = page_client.post(f"/appointments/existing/import/{imp.pk}/step/", HTTP_ACCEPT="application/json")
    assert step.status_code == 200 and step.json()["done"] is True and step.json()["imported_rows"] == 5

    entered = Appointment.objects.filter(source="existing")
    assert entered.count() == 5
    lin_appointment = entered.get(planner=mixed["lin"])
    assert (lin_appointment.start, lin_appointment.end, lin_appointment.term_no) == (
        dt.date(2019, 7, 1), dt.date(2026, 6, 30), 3)
    assert AppointmentTerm.objects.filter(appointment=lin_appointment).count() == 3
    he_appointment = entered.get(planner=mixed["he"])
    assert he_appointment.unit == mixed["units"][1] and he_appointment.end == dt.date(2026, 8, 31)
    # Documents as records of paper originals, no dispatch notice.
    kinds = IssuedDocument.objects.filter(subject_type="appointments.appointment").values_list("kind", flat=True)
    assert sorted(set(kinds)) == ["appointment_certificate", "appointment_contract"] and len(kinds) == 10
    # The dossier on the real dates; one audit row per contract, plus the import's own rows.
    events = DossierEvent.objects.filter(planner=mixed["lin"]).order_by("occurred_at")
    assert [e.kind for e in events] == [DossierEventKind.APPOINTED, DossierEventKind.RENEWED, DossierEventKind.RENEWED]
    actions = list(ActionLog.objects.values_list("action", "article"))
    assert actions.count(("appointments.appointment_existing_enter", "B19(3)")) == 5
    for action in ("upload", "start", "step"):
        assert (f"appointments.existing_import_{action}", "B19(3)") in actions
    entry = ActionLog.objects.filter(action="appointments.appointment_existing_enter",
                                     object_id=str(lin_appointment.pk)).get()
    assert entry.after["origin"] == {"import": imp.pk, "row": 2, "file_name": "既有聘任.xlsx"}
    done = page_client.get(f"/appointments/existing/import/{imp.pk}/").content.decode()
    assert "导入完成" in done and "已补录 5 项既有聘任" in done


def test_the_import_runs_in_steps_with_progress_and_skips_a_row_taken_meanwhile(
    login, city_admin, beijing, haidian, in_2026, monkeypatch
):
    monkeypatch.setattr(bulk, "IMPORT_CHUNK", 2)
    units = units_of(haidian, 3)
    people = [planner(beijing, f"分批{i}") for i in range(3)]
    client = login(city_admin)
    upload(client, [contract_row(p, u) for p, u in zip(people, units)])
    imp = AppointmentImport.objects.get()
    assert imp.batches.count() == 2 and imp.can_import_all
    # Meanwhile the third contract is entered by hand.
    existing.appointment_existing_enter(actor=city_admin, planner=people[2], unit=units[2], role="responsible_planner",
                                        start="2025-07-01", contract_number="手工-1", signed_on="2025-06-30")
    assert client.post(f"/appointments/existing/import/{imp.pk}/start/", {"mode": "all"}).status_code == 302
    first = client.post(f"/appointments/existing/import/{imp.pk}/step/", HTTP_ACCEPT="application/json").json()
    assert (first["processed_rows"], first["imported_rows"], first["percent"], first["done"]) == (2, 2, 66, False)
    progress = client.get(f"/appointments/existing/import/{imp.pk}/progress/").json()
    assert progress["processed_rows"] == 2
    second = client.post(f"/appointments/existing/import/{imp.pk}/step/")  # the "继续导入" button
    assert second.status_code == 302
    imp.refresh_from_db()
    assert (imp.status, imp.imported_rows, imp.skipped_rows) == (ImportStatus.DONE, 2, 1)
    assert imp.skipped[0]["row"] == 4 and "重叠" in imp.skipped[0]["message"]
    assert imp.skipped[0]["column"] == "责任单元"
    assert Appointment.objects.filter(planner=people[2]).count() == 1


def test_a_beijing_district_officer_imports_for_their_own_districts_only(
    login, city_admin, district_haidian, district_chaoyang, street_office, pds_admin, beijing, haidian, chaoyang, in_2026
):
    mine, theirs = units_of(haidian, 1)[0], units_of(chaoyang, 1)[0]
    a, b = planner(beijing, "海淀人"), planner(beijing, "朝阳人")
    officer = login(district_haidian)
    upload(officer, [contract_row(a, mine), contract_row(b, theirs)])
    imp = AppointmentImport.objects.get()
    assert imp.valid_rows == 1 and "不在您负责的区" in cells(imp)[(3, "责任单元")]
    assert login(city_admin).get(f"/appointments/existing/import/{imp.pk}/").status_code == 200
    assert login(district_chaoyang).get(f"/appointments/existing/import/{imp.pk}/").status_code == 404
    assert login(pds_admin).get(f"/appointments/existing/import/{imp.pk}/").status_code == 404
    assert login(street_office).get(f"/appointments/existing/import/{imp.pk}/").status_code == 403
    assert login(street_office).get("/appointments/existing/import/").status_code == 403
    assert officer.post(f"/appointments/existing/import/{imp.pk}/start/", {"mode": "valid"}).status_code == 302
    officer.post(f"/appointments/existing/import/{imp.pk}/step/")
    assert Appointment.objects.get(source="existing").created_by == district_haidian
    # The officer's list shows only their own imports.
    assert f"#{imp.pk}" in officer.get("/appointments/existing/import/").content.decode()
    assert f"#{imp.pk}" not in login(district_chaoyang).get("/appointments/existing/import/").content.decode()


def test_pingdingshan_imports_through_the_api_and_its_district_officer_may_not(
    client, bearer, pds_admin, pds_officer, pingdingshan, pds_district, clock
):
    clock.set(dt.date(2022, 3, 1))
    units = units_of(pds_district, 2)
    a, b = planner(pingdingshan, "韩若溪"), planner(pingdingshan, "纪晓川")
    rows = [contract_row(a, units[0], **{"派驻角色": "", "聘期（首聘及各次续聘）":
                                         "2019-07-01~2020-06-30\n2020-07-01~2021-06-30\n2021-07-01~2022-06-30",
                                         "合同签订日期": "2021-06-28"}),
            contract_row(b, units[1], **{"聘期（首聘及各次续聘）": "2019-07-01~2020-06-30;2020-07-01~2022-06-30"})]
    refused = client.post("/api/v1/cities/pingdingshan/appointments/imports", {"file": xlsx(rows)}, **bearer(pds_officer))
    assert refused.status_code == 403 and "市级管理员" in refused.json()["detail"]
    response = client.post("/api/v1/cities/pingdingshan/appointments/imports", {"file": xlsx(rows)}, **bearer(pds_admin))
    assert response.status_code == 201, response.content.decode()
    report = response.json()
    assert report["valid_rows"] == 1 and report["error_rows"] == 1
    assert "1 年（P6(4)）" in report["errors"][0]["text"] and report["errors"][0]["row"] == 3
    run = client.post(f"/api/v1/appointments/imports/{report['id']}/run", data=json.dumps({"only_valid": True}),
                      content_type="application/json", **bearer(pds_admin))
    assert run.status_code == 200 and run.json()["done"] is True and run.json()["imported_rows"] == 1
    appointment = Appointment.objects.get(source="existing")
    assert appointment.planner == a and appointment.term_no == 3 and appointment.end == dt.date(2022, 6, 30)
    assert ActionLog.objects.get(action="appointments.appointment_existing_enter").article == "P6(3)"
    assert client.get(f"/api/v1/appointments/imports/{report['id']}", **bearer(pds_officer)).status_code == 403
    assert client.post("/api/v1/cities/beijing/appointments/imports", {"file": xlsx(rows)},
                       **bearer(pds_admin)).status_code == 404


def test_bad_files_are_refused_in_chinese_and_nothing_is_saved(login, city_admin):
    client = login(city_admin)
    not_excel = client.post("/appointments/existing/import/", {"file": SimpleUploadedFile("a.xlsx", b"name,id\n")})
    assert not_excel.status_code == 400 and "不是有效的 Excel" in not_excel.content.decode()
    wrong_headers = client.post("/appointments/existing/import/", {"file": xlsx([{"姓名": "某"}], headers=["姓名", "身份证号"])})
    assert wrong_headers.status_code == 400 and "缺少列" in wrong_headers.content.decode()
    assert "纸质合同编号" in wrong_headers.content.decode()
    empty = client.post("/appointments/existing/import/", {"file": xlsx([])})
    assert empty.status_code == 400 and "没有数据行" in empty.content.decode()
    assert not AppointmentImport.objects.exists()


def test_the_report_page_query_count_does_not_grow_with_rows(login, city_admin, beijing, in_2026):
    client = login(city_admin)

    def report_queries(count):
        rows = [{"姓名/团队名称": f"无此人{i}", "身份证号": make_id()} for i in range(count)]
        upload(client, rows)
        imp = AppointmentImport.objects.latest("id")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/appointments/existing/import/{imp.pk}/").status_code == 200
        return len(captured)

    assert report_queries(2) == report_queries(30)


def test_in_production_the_api_run_queues_a_job_that_the_worker_completes(
    client, bearer, pds_admin, pingdingshan, pds_district, clock, settings, monkeypatch
):
    """Issue #13: the bulk entry runs as a background job with progress; the request only starts it."""
    import django_rq

    from rpms.core.jobs import run_tracked

    calls = []
    queue = type("Q", (), {"enqueue_call": lambda self, **kw: calls.append(kw) or type("J", (), {"id": "rq-1"})()})()
    settings.RPMS_JOBS_INLINE = False
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kw: queue)
    clock.set(dt.date(2022, 3, 1))
    units = units_of(pds_district, 1)
    a = planner(pingdingshan, "韩若溪")
    rows = [contract_row(a, units[0], **{"派驻角色": "", "聘期（首聘及各次续聘）":
                                         "2019-07-01~2020-06-30\n2020-07-01~2021-06-30\n2021-07-01~2022-06-30",
                                         "合同签订日期": "2021-06-28"})]
    report = client.post("/api/v1/cities/pingdingshan/appointments/imports", {"file": xlsx(rows)},
                         **bearer(pds_admin)).json()
    run = client.post(f"/api/v1/appointments/imports/{report['id']}/run", data=json.dumps({"only_valid": True}),
                      content_type="application/json", **bearer(pds_admin)).json()
    assert report["valid_rows"] == 1, report["errors"]
    assert run["status"] == "importing" and run["job"]["status"] == "queued", run
    assert run["job"]["kind"] == "appointments.existing_import" and not Appointment.objects.filter(source="existing")
    (call,) = calls
    assert call["func"] is run_tracked
    run_tracked(*call["args"])  # the worker
    job = client.get(f"/api/v1/jobs/{run['job']['id']}", **bearer(pds_admin)).json()
    assert job["status"] == "done" and job["message"] == "导入完成：已补录 1 项既有聘任。"
    assert job["progress"] == {"done": 1, "total": 1, "percent": 100}
    assert Appointment.objects.filter(source="existing").count() == 1
