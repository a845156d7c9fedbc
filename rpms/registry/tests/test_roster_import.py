"""Bulk import of an existing roster (名册导入, #3 item 8): the template, validation with the rules of an
application (ID checksum, mobile, vocabularies, districts, eligibility with the failed rule's article,
duplicates in the file and against the pool), 全部导入 refused while there are errors, 只导入无误的行
importing exactly the valid rows with their dossier event and audit rows, both cities, bad files,
scoping and a constant query count on the report page."""
import datetime as dt
import io
import itertools
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from rpms.cities.selectors import policy_article
from rpms.core.identity import id_number_checksum
from rpms.core.models import ActionLog
from rpms.registry import roster_import as roster
from rpms.registry.models import (
    DossierEvent,
    DossierEventKind,
    Planner,
    PlannerSource,
    PoolStatus,
    RosterImport,
    RosterImportStatus,
)

from .factories import pool_member

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in roster.COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_seq = itertools.count(1)


def make_id(n=None, region="110105"):
    n = next(_seq) if n is None else n
    first17 = f"{region}1985{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def bad_checksum(number):
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def person(name, **overrides):
    """A Beijing-eligible row (deputy-senior planning title, 8 years) by Chinese header."""
    n = next(_seq)
    row = {
        "姓名": name, "身份证号": make_id(n), "手机号": f"139{n:08d}", "电子邮箱": "", "工作单位": "虚构规划设计院",
        "学历": "本科", "专业": "城乡规划", "专业领域": "城乡规划", "职称等级": "副高级", "职称专业领域": "城乡规划",
        "执业资格": "", "相关工作年限": 8, "擅长专业领域": "城乡规划、城市设计", "熟悉的区": "海淀区、朝阳",
        # Issue #12 (5d): an existing member's admission and its evidence.
        "入库日期": "2021-06-30", "入库依据": "虚构规划自然资源委〔2021〕12号",
    }
    row.update(overrides)
    return row


def roster_file(rows, headers=HEADERS, name="名册.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = roster.SHEET_TITLE
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client, rows, **kwargs):
    return client.post("/pool/import/", {"file": roster_file(rows, **kwargs)})


def text(response):
    return response.content.decode()


def error_cells(roster_import):
    return {(e["row"], e["column"]) for e in roster_import.errors}


# --- the template ---------------------------------------------------------------------------------------


def test_the_template_downloads_as_xlsx_with_chinese_headers_and_instructions(city_admin):
    response = logged_in(city_admin).get("/pool/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["责任规划师名册", "填写说明"]
    header = [c.value for c in next(workbook["责任规划师名册"].iter_rows(min_row=1, max_row=1))]
    assert header == HEADERS
    for required in ("姓名", "身份证号", "手机号", "擅长专业领域", "熟悉的区", "执业资格", "职称专业领域"):
        assert required in header
    notes = "\n".join(str(c.value) for row in workbook["填写说明"].iter_rows() for c in row if c.value is not None)
    for allowed in ("城乡规划", "风景园林", "注册城乡规划师", "一级注册建筑师", "海淀区", "延庆区", "副高级", "硕士研究生"):
        assert allowed in notes
    assert "示例" in notes and "虚构" in notes and "团队" in notes
    assert "B18(2)" in notes  # the declarations the administrator confirms by importing


def test_the_blank_template_uploaded_as_is_is_refused_as_having_no_rows(city_admin):
    client = logged_in(city_admin)
    template = client.get("/pool/import/template.xlsx").content
    response = client.post("/pool/import/", {"file": SimpleUploadedFile("模板.xlsx", template)})
    assert response.status_code == 400 and "没有数据行" in text(response)
    assert RosterImport.objects.count() == 0


@pytest.mark.parametrize("admin", ["city_admin", "pds_admin"])
def test_a_filled_in_template_with_its_example_row_is_accepted(admin, request):
    """The example in "填写说明", copied into the roster sheet of the downloaded template, passes every check."""
    client = logged_in(request.getfixturevalue(admin))
    workbook = load_workbook(io.BytesIO(client.get("/pool/import/template.xlsx").content))
    notes = list(workbook["填写说明"].iter_rows(values_only=True))
    header_at = max(i for i, row in enumerate(notes) if list(row[: len(HEADERS)]) == HEADERS)
    example = notes[header_at + 1][: len(HEADERS)]
    sheet = workbook["责任规划师名册"]
    for column, value in enumerate(example, start=1):
        sheet.cell(row=2, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post("/pool/import/", {"file": SimpleUploadedFile("填好的模板.xlsx", buffer.getvalue())})
    assert response.status_code == 302
    imp = RosterImport.objects.get()
    assert (imp.total_rows, imp.valid_rows, imp.error_rows) == (1, 1, 0), imp.errors


# --- validation and import (Beijing) --------------------------------------------------------------------


@pytest.fixture
def existing(beijing):
    return pool_member(beijing, "既有成员", id_number=make_id(900))


@pytest.fixture
def mixed_rows(existing):
    first = person("甲规划")
    numeric = person("子数字")
    numeric["手机号"] = int(numeric["手机号"])  # Excel turned the mobile into a number: still accepted
    return [
        first,                                                                                   # row 2 valid
        person("乙校验", 身份证号=bad_checksum(make_id())),                                        # row 3
        person("丙不符", 职称等级="中级", 执业资格="", 相关工作年限=2),                               # row 4 ineligible
        person("丁领域", 擅长专业领域="城乡规划、量子规划"),                                         # row 5
        person("戊重复", 身份证号=first["身份证号"]),                                               # row 6
        person("己在库", 身份证号=existing.id_number),                                             # row 7
        person("庚手机", 手机号="12345"),                                                          # row 8
        person("辛注册", 学历="硕士", 职称等级="无", 职称专业领域="", 执业资格="注册城乡规划师", 熟悉的区="东城区"),  # row 9 valid
        person("壬外区", 熟悉的区="海淀区、浦东新区"),                                               # row 10
        numeric,                                                                                 # row 11 valid
        person("癸数字", 身份证号=float(make_id(77)[:17] + "0")),                                   # row 12
    ]


@pytest.fixture
def mixed_import(city_admin, mixed_rows):
    response = upload(logged_in(city_admin), mixed_rows)
    assert response.status_code == 302, text(response)[:500]
    return RosterImport.objects.get()


def test_a_mixed_roster_reports_each_bad_row_with_its_row_and_column(mixed_import, city_admin, existing):
    imp = mixed_import
    assert (imp.total_rows, imp.valid_rows, imp.error_rows) == (11, 3, 8)
    assert imp.status == RosterImportStatus.VALIDATED
    cells = error_cells(imp)
    assert {(3, "身份证号"), (4, "资格条件"), (5, "擅长专业领域"), (6, "身份证号"), (7, "身份证号"), (8, "手机号"),
            (10, "熟悉的区"), (12, "身份证号")} <= cells
    assert not {row for row, _ in cells} & {2, 9, 11}
    messages = {(e["row"], e["column"]): e["message"] for e in imp.errors}
    assert "校验位不正确" in messages[(3, "身份证号")]
    ineligible = messages[(4, "资格条件")]
    assert "B18(1)" in ineligible and "B18(3)" in ineligible and "2 年" in ineligible
    assert "量子规划" in messages[(5, "擅长专业领域")]
    assert "第 2 行" in messages[(6, "身份证号")]
    assert "既有成员" in messages[(7, "身份证号")]
    assert "浦东新区" in messages[(10, "熟悉的区")]
    assert "文本格式" in messages[(12, "身份证号")]
    assert Planner.objects.filter(source=PlannerSource.IMPORT).count() == 0  # nothing imported yet

    page = text(logged_in(city_admin).get(f"/pool/import/{imp.pk}/"))
    assert "第 3 行" in page and "校验位不正确" in page and "B18(1)" in page and "只导入无误的行" in page
    assert 'value="all" disabled' in page  # 全部导入 is disabled while there are errors
    assert existing.id_number not in page and existing.mobile not in page
    assert roster.error_label(imp.errors[0]).startswith(f"第 {imp.errors[0]['row']} 行 · ")


def test_the_errors_download_lists_every_error(mixed_import, city_admin):
    response = logged_in(city_admin).get(f"/pool/import/{mixed_import.pk}/errors.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "列", "错误说明")
    assert {(r[0], r[1]) for r in rows[1:]} == error_cells(mixed_import)


def test_import_all_is_refused_while_the_file_has_errors(mixed_import, city_admin, bearer, anon):
    before = (Planner.objects.count(), DossierEvent.objects.count())
    response = logged_in(city_admin).post(f"/pool/import/{mixed_import.pk}/start/", {"mode": "all"})
    assert response.status_code == 409 and "不能全部导入" in text(response)
    api = anon.post(f"/api/v1/pool/imports/{mixed_import.pk}/run", data=json.dumps({"only_valid": False}),
                    content_type="application/json", **bearer(city_admin))
    assert api.status_code == 409 and "不能全部导入" in api.json()["detail"]
    mixed_import.refresh_from_db()
    assert mixed_import.status == RosterImportStatus.VALIDATED and mixed_import.imported_rows == 0
    assert (Planner.objects.count(), DossierEvent.objects.count()) == before


def test_importing_only_the_valid_rows_imports_exactly_them(mixed_import, city_admin, beijing):
    client = logged_in(city_admin)
    assert client.post(f"/pool/import/{mixed_import.pk}/start/", {"mode": "valid"}).status_code == 302
    page = text(client.get(f"/pool/import/{mixed_import.pk}/"))
    assert "导入进度" in page and "继续导入" in page and "<progress" in page and 'src="http' not in page
    # issue #16 item 5: the progress script is a static file (the Content-Security-Policy forbids inline script)
    assert '<script src="/static/js/import_progress.js" defer></script>' in page and "<script>" not in page
    progress = client.get(f"/pool/import/{mixed_import.pk}/progress/").json()
    assert progress["status"] == "importing" and progress["processed_rows"] == 0 and progress["valid_rows"] == 3
    # The "继续导入" button (no JS): one step imports the chunk and returns to the report.
    assert client.post(f"/pool/import/{mixed_import.pk}/step/").status_code == 302
    mixed_import.refresh_from_db()
    assert mixed_import.status == RosterImportStatus.DONE and mixed_import.imported_rows == 3
    assert mixed_import.only_valid is True and not mixed_import.batches.exists()  # no personal data kept twice

    imported = Planner.objects.filter(source=PlannerSource.IMPORT).order_by("name")
    assert sorted(p.name for p in imported) == sorted(["甲规划", "辛注册", "子数字"])
    article = policy_article(beijing, "roster_import")
    assert article == "B19(1)"
    for planner in imported:
        assert planner.pool_status == PoolStatus.ACTIVE and planner.admitted_at is not None and planner.city == beijing
        [event] = planner.events.all()
        assert event.kind == DossierEventKind.IMPORTED and event.article == article
        assert event.data["import_id"] == mixed_import.pk and event.data["file_name"] == "名册.xlsx"
        assert event.data["imported_by"] and event.actor == city_admin
        assert f"#{mixed_import.pk}" in event.summary and "名册.xlsx" in event.summary
    first = imported.get(name="甲规划")
    assert first.events.get().data["row"] == 2
    assert sorted(d.name for d in first.familiar_districts.all()) == ["朝阳区", "海淀区"]
    assert first.specialties == ["urban_rural_planning", "urban_design"] and first.title_level == "deputy_senior"
    registered = imported.get(name="辛注册")
    assert registered.registrations == ["registered_planner"] and registered.degree == "master"
    assert imported.get(name="子数字").events.get().data["row"] == 11

    actions = list(ActionLog.objects.filter(action__startswith="registry.roster_import").values_list("action", "article"))
    assert ("registry.roster_import_upload", article) in actions
    assert ("registry.roster_import_start", article) in actions
    assert ("registry.roster_import_step", article) in actions
    dossier = text(client.get(f"/pool/{first.pk}/"))
    assert "名册导入" in dossier and article in dossier


def test_the_import_runs_in_steps_with_json_progress_and_one_audit_row_per_step(city_admin, monkeypatch):
    monkeypatch.setattr(roster.apply, "IMPORT_CHUNK", 2)  # the constant of the module that cuts the batches
    rows = [person(f"分批{i}") for i in range(5)]
    client = logged_in(city_admin)
    upload(client, rows)
    imp = RosterImport.objects.get()
    assert imp.batches.count() == 3
    client.post(f"/pool/import/{imp.pk}/start/", {"mode": "all"})
    seen = []
    while len(seen) < 10:
        response = client.post(f"/pool/import/{imp.pk}/step/", HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        data = response.json()
        seen.append((data["processed_rows"], data["percent"]))
        if data["done"]:
            break
    assert seen == [(2, 40), (4, 80), (5, 100)]
    assert ActionLog.objects.filter(action="registry.roster_import_step").count() == 3
    assert Planner.objects.filter(source=PlannerSource.IMPORT).count() == 5
    # A further step on a finished import writes nothing.
    client.post(f"/pool/import/{imp.pk}/step/", HTTP_ACCEPT="application/json")
    assert ActionLog.objects.filter(action="registry.roster_import_step").count() == 3


def test_a_row_admitted_after_validation_is_skipped_at_import(city_admin, beijing):
    late, other = person("后入库"), person("正常导入")
    client = logged_in(city_admin)
    upload(client, [late, other])
    imp = RosterImport.objects.get()
    pool_member(beijing, "另行入库", id_number=late["身份证号"])
    roster.roster_import_run(actor=city_admin, roster_import=imp, only_valid=False)
    imp.refresh_from_db()
    assert (imp.imported_rows, imp.skipped_rows) == (1, 1)
    assert imp.skipped[0]["row"] == 2 and "另行入库" in imp.skipped[0]["message"]
    assert list(Planner.objects.filter(source=PlannerSource.IMPORT).values_list("name", flat=True)) == ["正常导入"]


def test_a_removed_planner_may_be_imported_again(city_admin, beijing):
    row = person("曾调出")
    pool_member(beijing, "曾调出", id_number=row["身份证号"], status=PoolStatus.REMOVED)
    upload(logged_in(city_admin), [row])
    imp = RosterImport.objects.get()
    assert imp.error_rows == 0 and imp.valid_rows == 1


# --- Pingdingshan --------------------------------------------------------------------------------------------


def test_pingdingshan_accepts_the_ten_year_path_and_cites_its_own_articles(pds_admin, pingdingshan):
    rows = [
        person("老资历", 学历="大专", 专业="", 专业领域="", 职称等级="", 职称专业领域="", 相关工作年限=12,
               熟悉的区="新华区、卫东区"),                                                       # row 2: P4 10-year path
        person("本科中级", 学历="本科", 职称等级="中级", 相关工作年限=4, 熟悉的区="湛河区"),             # row 3: degree + title
        person("年限不足", 学历="大专", 专业领域="", 职称等级="", 职称专业领域="", 相关工作年限=5,
               熟悉的区="新华区"),                                                               # row 4: ineligible
        person("北京区", 熟悉的区="海淀区"),                                                     # row 5: not a PDS district
    ]
    client = logged_in(pds_admin)
    assert upload(client, rows).status_code == 302
    imp = RosterImport.objects.get()
    assert imp.city == pingdingshan and (imp.valid_rows, imp.error_rows) == (2, 2)
    messages = {(e["row"], e["column"]): e["message"] for e in imp.errors}
    assert "P4(2)" in messages[(4, "资格条件")] and "10 年" in messages[(4, "资格条件")]
    assert "平顶山" in messages[(5, "熟悉的区")] and "海淀区" in messages[(5, "熟悉的区")]
    assert client.post(f"/pool/import/{imp.pk}/start/", {"mode": "valid"}).status_code == 302
    client.post(f"/pool/import/{imp.pk}/step/")
    imported = Planner.objects.filter(city=pingdingshan, source=PlannerSource.IMPORT)
    assert sorted(imported.values_list("name", flat=True)) == sorted(["老资历", "本科中级"])
    senior = imported.get(name="老资历")
    assert senior.degree == "junior_college" and senior.experience_years == 12
    assert sorted(d.name for d in senior.familiar_districts.all()) == ["卫东区", "新华区"]
    assert senior.events.get().article == policy_article(pingdingshan, "roster_import") == "P5(3)"
    assert ActionLog.objects.filter(action="registry.roster_import_step", article="P5(3)").exists()


# --- bad files ------------------------------------------------------------------------------------------------


def _bad_upload(client, file):
    before = (ActionLog.objects.count(), Planner.objects.count())
    response = client.post("/pool/import/", {"file": file})
    assert RosterImport.objects.count() == 0
    assert (ActionLog.objects.count(), Planner.objects.count()) == before
    return response


def test_bad_files_are_refused_in_chinese_and_nothing_is_saved(city_admin, monkeypatch):
    client = logged_in(city_admin)
    response = _bad_upload(client, SimpleUploadedFile("名册.xlsx", "姓名,身份证号\n张三,1\n".encode()))
    assert response.status_code == 400 and "不是有效的 Excel" in text(response)
    response = _bad_upload(client, SimpleUploadedFile("名册.csv", "姓名,身份证号\n张三,1\n".encode()))
    assert response.status_code == 400 and "不是有效的 Excel" in text(response)
    response = _bad_upload(client, SimpleUploadedFile("旧名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100))
    assert response.status_code == 400 and ".xlsx" in text(response)
    response = _bad_upload(client, SimpleUploadedFile("坏.xlsx", b"PK\x03\x04broken zip"))
    assert response.status_code == 400 and "不是有效的 Excel" in text(response)
    response = _bad_upload(client, roster_file([person("甲")], headers=["名字", "证件", "电话"]))
    assert response.status_code == 400 and "表头不正确" in text(response) and "身份证号" in text(response)
    response = _bad_upload(client, roster_file([]))
    assert response.status_code == 400 and "没有数据行" in text(response)
    response = _bad_upload(client, SimpleUploadedFile("空.xlsx", b""))
    assert response.status_code == 400 and "空的" in text(response)
    response = client.post("/pool/import/", {})
    assert response.status_code == 400 and "请选择" in text(response)
    monkeypatch.setattr(roster.reader, "MAX_ROWS", 2)
    response = _bad_upload(client, roster_file([person("一"), person("二"), person("三")]))
    assert response.status_code == 413 and "行上限" in text(response)
    monkeypatch.setattr(roster.reader, "MAX_FILE_BYTES", 1000)
    response = _bad_upload(client, roster_file([person("一")]))
    assert response.status_code == 413 and "上限" in text(response)


def test_the_api_refuses_a_bad_file_with_a_chinese_message(anon, city_admin, bearer):
    response = anon.post("/api/v1/cities/beijing/pool/imports", {"file": SimpleUploadedFile("x.xlsx", b"not excel")},
                         **bearer(city_admin))
    assert response.status_code == 400 and "Excel" in response.json()["detail"]
    response = anon.post("/api/v1/cities/beijing/pool/imports", {}, **bearer(city_admin))
    assert response.status_code == 400 and "file" in response.json()["detail"]
    assert RosterImport.objects.count() == 0


# --- API -------------------------------------------------------------------------------------------------------


def test_the_api_validates_then_imports_only_the_valid_rows(anon, city_admin, bearer):
    headers = bearer(city_admin)
    good, bad = person("接口甲"), person("接口乙", 身份证号=bad_checksum(make_id()))
    response = anon.post("/api/v1/cities/beijing/pool/imports", {"file": roster_file([good, bad])}, **headers)
    assert response.status_code == 201
    report = response.json()
    assert (report["total_rows"], report["valid_rows"], report["error_rows"]) == (2, 1, 1)
    assert report["can_import_all"] is False and report["can_import_valid"] is True
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["column"] == "身份证号"
    assert report["errors"][0]["text"].startswith("第 3 行 · 身份证号：")
    assert good["身份证号"] not in response.content.decode() and good["手机号"] not in response.content.decode()
    run = anon.post(f"/api/v1/pool/imports/{report['id']}/run", data=json.dumps({"only_valid": True}),
                    content_type="application/json", **headers)
    assert run.status_code == 200 and run.json()["imported_rows"] == 1 and run.json()["status"] == "done"
    assert list(Planner.objects.filter(source=PlannerSource.IMPORT).values_list("name", flat=True)) == ["接口甲"]
    assert anon.get(f"/api/v1/pool/imports/{report['id']}", **headers).json()["imported_rows"] == 1


# --- who may import ---------------------------------------------------------------------------------------------


def test_another_citys_administrator_gets_404_and_district_officers_403(
    mixed_import, pds_admin, district_haidian, street_office, anon, bearer
):
    pk = mixed_import.pk
    other = logged_in(pds_admin)
    assert other.get(f"/pool/import/{pk}/").status_code == 404
    assert other.get(f"/pool/import/{pk}/errors.xlsx").status_code == 404
    assert other.get(f"/pool/import/{pk}/progress/").status_code == 404
    assert other.post(f"/pool/import/{pk}/start/", {"mode": "valid"}).status_code == 404
    assert other.post(f"/pool/import/{pk}/step/").status_code == 404
    assert anon.get(f"/api/v1/pool/imports/{pk}", **bearer(pds_admin)).status_code == 404
    assert anon.post("/api/v1/cities/beijing/pool/imports", {"file": roster_file([person("越权")])},
                     **bearer(pds_admin)).status_code == 404
    officer = logged_in(district_haidian)
    assert officer.get("/pool/import/").status_code == 403
    assert officer.get("/pool/import/template.xlsx").status_code == 403
    assert officer.get(f"/pool/import/{pk}/").status_code == 403
    assert officer.post(f"/pool/import/{pk}/start/", {"mode": "valid"}).status_code == 403
    assert anon.post("/api/v1/cities/beijing/pool/imports", {"file": roster_file([person("越权")])},
                     **bearer(district_haidian)).status_code == 403
    assert logged_in(street_office).get("/pool/import/").status_code == 403
    assert Client().get("/pool/import/").status_code == 302  # to the login page
    mixed_import.refresh_from_db()
    assert mixed_import.status == RosterImportStatus.VALIDATED and RosterImport.objects.count() == 1


def test_the_pool_page_links_to_the_import_for_city_administrators_only(city_admin, district_haidian):
    assert "/pool/import/" in text(logged_in(city_admin).get("/pool/"))
    assert "/pool/import/" not in text(logged_in(district_haidian).get("/pool/"))


def test_the_report_page_query_count_does_not_grow_with_rows(city_admin, existing):
    client = logged_in(city_admin)

    def report_queries(rows):
        upload(client, rows)
        imp = RosterImport.objects.order_by("-id").first()
        client.get(f"/pool/import/{imp.pk}/")  # warm the session
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/pool/import/{imp.pk}/")
        assert response.status_code == 200
        return len(captured), imp

    small, small_imp = report_queries([person("少一"), person("少二", 手机号="1")])
    rows = [person(f"多{i}", **({"手机号": "1"} if i % 2 else {})) for i in range(80)]
    large, large_imp = report_queries(rows + [person("在库重复", 身份证号=existing.id_number)])
    assert large_imp.error_rows == 41 and small_imp.error_rows == 1
    assert large == small


def test_the_upload_page_lists_recent_imports_with_constant_queries(city_admin, django_assert_max_num_queries):
    client = logged_in(city_admin)
    upload(client, [person("列表0")])
    client.get("/pool/import/")
    with django_assert_max_num_queries(50) as few:
        client.get("/pool/import/")
    few_count = len(few.captured_queries)  # read now: the next request resets Django's query log
    for i in range(1, 4):
        upload(client, [person(f"列表{i}")])
    with django_assert_max_num_queries(few_count):
        page = text(client.get("/pool/import/"))
    assert page.count("/pool/import/") >= 4 and "名册.xlsx" in page


# --- issue #12 (5d): only existing members, each with the evidence of their admission --------------------


@pytest.mark.parametrize("admin", ["city_admin", "pds_admin"])
def test_rows_without_admission_evidence_are_refused_per_row(admin, request):
    """A roster admits only people already admitted, with their admission date and the original
    admission document or notice; anyone else goes through a call and its public notice."""
    user = request.getfixturevalue(admin)
    city = user.city
    district = "海淀区" if city.code == "beijing" else "新华区"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    rows = [
        person("有依据", 熟悉的区=district),                                                           # row 2 valid
        person("无日期", 熟悉的区=district, 入库日期=""),                                               # row 3
        person("无依据", 熟悉的区=district, 入库依据=""),                                               # row 4
        person("未来", 熟悉的区=district, 入库日期=tomorrow),                                           # row 5
        person("坏日期", 熟悉的区=district, 入库日期="2021-02-30"),                                     # row 6
        person("坏网址", 熟悉的区=district, 入库依据="https://"),                                       # row 7
        person("网址", 熟悉的区=district, 入库日期=dt.datetime(2020, 5, 8),
               入库依据="https://zrzy.example.gov.cn/gs/2020-05-08.html"),                             # row 8 valid (Excel date)
        person("无字", 熟悉的区=district, 入库依据="无"),                                                # row 9
    ]
    client = logged_in(user)
    assert upload(client, rows).status_code == 302
    imp = RosterImport.objects.get()
    assert (imp.valid_rows, imp.error_rows) == (2, 6), imp.errors
    messages = {(e["row"], e["column"]): e["message"] for e in imp.errors}
    assert "请填写原入库日期" in messages[(3, "入库日期")] and "公示入库" in messages[(3, "入库日期")]
    assert "请填写入库依据" in messages[(4, "入库依据")] and "不能通过名册导入" in messages[(4, "入库依据")]
    assert "晚于今天" in messages[(5, "入库日期")]
    assert "不是有效日期" in messages[(6, "入库日期")]
    assert "网址" in messages[(7, "入库依据")]
    assert "请填写入库依据" in messages[(9, "入库依据")]
    report = text(client.get(f"/pool/import/{imp.pk}/"))
    assert "<td>第 4 行</td><td>入库依据</td><td>请填写入库依据" in report
    # 全部导入 is refused while rows lack their evidence; only the evidenced rows enter the pool.
    assert client.post(f"/pool/import/{imp.pk}/start/", {"mode": "all"}).status_code == 409
    roster.roster_import_run(actor=user, roster_import=imp, only_valid=True)
    imported = Planner.objects.filter(city=city, source=PlannerSource.IMPORT)
    assert sorted(imported.values_list("name", flat=True)) == sorted(["有依据", "网址"])
    evidenced = imported.get(name="有依据")
    assert timezone.localtime(evidenced.admitted_at).date() == dt.date(2021, 6, 30)
    event = evidenced.events.get()
    assert event.data["admitted_on"] == "2021-06-30" and event.data["admission_evidence"] == "虚构规划自然资源委〔2021〕12号"
    assert "原入库日期 2021-06-30" in event.summary and "虚构规划自然资源委〔2021〕12号" in event.summary
    assert event.article == policy_article(city, "roster_import")
    assert timezone.localtime(imported.get(name="网址").admitted_at).date() == dt.date(2020, 5, 8)
    assert imported.get(name="网址").events.get().data["admission_evidence"].startswith("https://")


def test_a_roster_without_the_evidence_columns_is_refused_naming_them(city_admin):
    old_headers = [h for h in HEADERS if h not in ("入库日期", "入库依据")]
    response = upload(logged_in(city_admin), [person("旧模板")], headers=old_headers)
    assert response.status_code == 400
    page = text(response)
    assert "缺少列" in page and "入库日期" in page and "入库依据" in page
    assert RosterImport.objects.count() == 0


def test_the_template_explains_that_only_admitted_members_are_imported(city_admin):
    workbook = load_workbook(io.BytesIO(logged_in(city_admin).get("/pool/import/template.xlsx").content))
    header = [c.value for c in workbook["责任规划师名册"][1]]
    assert header[-2:] == ["入库日期", "入库依据"]
    notes = "\n".join(str(v) for row in workbook["填写说明"].iter_rows(values_only=True) for v in row if v)
    assert "没有入库依据的人员不能导入" in notes and "公示后入库" in notes
