"""Running contracts entered with their history (issue #11 item 10): a 2019 start with two renewals in
Beijing (by the district officer, local selection) and in Pingdingshan (by the city administrator),
the term rules in Chinese, every rule of an appointment on the real dates (pool, same unit, the
B19(2) cap), the documents as records of paper originals, the dossier's history, and scoping."""
import datetime as dt
import io
import json

import pytest
from pdfminer.high_level import extract_text

from rpms.appointments import existing, services
from rpms.appointments.models import Appointment, AppointmentTerm
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.documents.models import IssuedDocument
from rpms.registry.models import DossierEvent, DossierEventKind

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
BJ_TERMS = [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-07-01", "end": "2023-06-30"},
            {"start": "2023-07-01", "end": "2026-06-30"}]
PDS_TERMS = [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-07-01", "end": "2021-06-30"},
             {"start": "2021-07-01", "end": "2022-06-30"}]


def post(client, path, headers, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **headers)


def existing_body(planner, unit, **overrides):
    body = {"existing": True, "planner": planner.pk, "unit": unit.pk, "role": "responsible_planner",
            "start": "2019-07-01", "terms": BJ_TERMS, "contract_number": "海万合字〔2023〕第12号",
            "signed_on": "2023-06-20", "fee_yuan": 60000}
    body.update(overrides)
    return body


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def in_2026(clock):
    clock.set(dt.date(2026, 3, 1))
    return clock


def test_beijing_district_officer_enters_a_2019_contract_with_two_renewals(
    client, bearer, district_haidian, wanshou, bj_planner, in_2026
):
    response = post(client, "/api/v1/appointments", bearer(district_haidian), existing_body(bj_planner, wanshou))
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["start"] == "2019-07-01" and body["end"] == "2026-06-30" and body["status"] == "active"
    assert [(t["kind"], t["start"], t["end"], t["years"]) for t in body["terms"]] == [
        ("first", "2019-07-01", "2020-06-30", 1), ("renewal", "2020-07-01", "2023-06-30", 3),
        ("renewal", "2023-07-01", "2026-06-30", 3)]
    # Only the current term's paper contract is known; the issued contract's number is on its term row.
    assert body["terms"][2]["paper_contract_number"] == "海万合字〔2023〕第12号"
    assert body["terms"][2]["signed_on"] == "2023-06-20" and body["terms"][2]["contract_number"].startswith("BEIJING-")
    assert body["terms"][0]["contract_number"] == "" and body["existing"] is True
    # No dispatch notice for a dispatch that happened on paper; certificate and contract of the current term.
    assert {d["kind"] for d in body["documents"]} == {"appointment_certificate", "appointment_contract"}

    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.source == "existing" and appointment.term_no == 3 and appointment.created_by == district_haidian
    assert appointment.party_a.startswith("万寿路街道")
    contract = IssuedDocument.objects.get(subject_id=str(appointment.pk), kind="appointment_contract")
    assert contract.context["paper_original"] == {"contract_number": "海万合字〔2023〕第12号", "signed_on": "2023-06-20"}
    assert contract.context["start"] == "2023-07-01" and contract.context["term_years"] == 3
    assert contract.title == "责任规划师续聘合同（第 3 聘期）"

    # The history in the dossier, on the real dates, with Beijing's articles.
    events = list(DossierEvent.objects.filter(planner=bj_planner).order_by("occurred_at"))
    assert [(e.kind, e.occurred_at.astimezone().date().isoformat(), e.article) for e in events] == [
        (DossierEventKind.APPOINTED, "2019-07-01", "B19(1)"), (DossierEventKind.RENEWED, "2020-07-01", "B19(2)"),
        (DossierEventKind.RENEWED, "2023-07-01", "B19(2)")]
    assert "既有聘任补录" in events[0].summary and "海万合字〔2023〕第12号" in events[2].summary

    # One audit row for the act, citing Beijing's article for the step.
    rows = ActionLog.objects.filter(object_type="appointments.appointment", object_id=str(appointment.pk))
    assert [(r.action, r.article) for r in rows] == [("appointments.appointment_existing_enter", "B19(3)")]
    assert rows[0].after["paper_original"]["contract_number"] == "海万合字〔2023〕第12号"


def test_pingdingshan_city_admin_enters_a_2019_contract_with_two_one_year_renewals(
    pds_admin, pds_unit, pds_planner, clock
):
    clock.set(dt.date(2022, 3, 1))
    appointment = existing.appointment_existing_enter(
        actor=pds_admin, planner=pds_planner, unit=pds_unit, role="responsible_planner", start="2019-07-01",
        terms=PDS_TERMS, contract_number="平自然资合〔2021〕7号", signed_on="2021-06-28",
    )
    assert (appointment.start, appointment.end, appointment.term_no) == (D("2019-07-01"), D("2022-06-30"), 3)
    terms = list(AppointmentTerm.objects.filter(appointment=appointment).order_by("term_no"))
    assert [(t.kind, t.years, t.paper_contract_number) for t in terms] == [
        ("first", 1, ""), ("renewal", 1, ""), ("renewal", 1, "平自然资合〔2021〕7号")]
    # Pingdingshan: the city bureau signs (P6(3)), and its own articles.
    assert appointment.party_a == pds_unit.city.bureau_name
    events = DossierEvent.objects.filter(planner=pds_planner).order_by("occurred_at")
    assert [(e.kind, e.article) for e in events] == [
        ("appointed", "P6(2)"), ("renewed", "P6(4)"), ("renewed", "P6(4)")]
    assert ActionLog.objects.get(action="appointments.appointment_existing_enter").article == "P6(3)"

    # Pingdingshan renews for one year only: a two-year renewal on paper is refused with its article.
    other = make_planner(pds_unit.city, "纪晓川")
    with pytest.raises(DomainError) as refused:
        existing.appointment_existing_enter(
            actor=pds_admin, planner=other, unit=units_of(pds_unit.district, 2)[1], role="responsible_planner",
            start="2020-07-01", terms=[{"start": "2020-07-01", "end": "2021-06-30"},
                                       {"start": "2021-07-01", "end": "2023-06-30"}],
            contract_number="平自然资合〔2021〕8号", signed_on="2021-06-28",
        )
    assert refused.value.code == "term_length_invalid" and "1 年（P6(4)）" in refused.value.message
    assert "2022-06-30" in refused.value.message


def test_a_pingdingshan_district_officer_may_not_enter_existing_contracts(pds_officer, pds_unit, pds_planner, clock):
    with pytest.raises(Forbidden) as refused:
        existing.appointment_existing_enter(
            actor=pds_officer, planner=pds_planner, unit=pds_unit, role="responsible_planner",
            start=clock.today - dt.timedelta(days=100), contract_number="P-1", signed_on=clock.today - dt.timedelta(days=100),
        )
    assert "市级管理员" in refused.value.message


def test_an_ordinary_appointment_starting_30_days_back_is_still_refused(client, bearer, city_admin, street_office,
                                                                        wanshou, bj_planner, pds_admin, pds_unit,
                                                                        pds_planner, clock):
    start = (clock.today - dt.timedelta(days=30)).isoformat()
    # Pingdingshan's bureau appoints directly (P6(2)) …
    for extra in ({}, {"existing": False}):
        response = post(client, "/api/v1/appointments", bearer(pds_admin),
                        {"planner": pds_planner.pk, "unit": pds_unit.pk, "role": "responsible_planner", "start": start,
                         **extra})
        assert response.status_code == 400 and response.json()["code"] == "start_in_past"
        assert "不能早于" in response.json()["detail"]
    # … Beijing's ordinary appointment is the street office's proposal (B2, B19(1)(5)): the same rule
    response = post(client, "/api/v1/appointments/proposals", bearer(street_office),
                    {"planner": bj_planner.pk, "unit": wanshou.pk, "role": "responsible_planner", "start": start})
    assert response.status_code == 400 and response.json()["code"] == "start_in_past"
    assert "不能早于" in response.json()["detail"]
    assert not Appointment.objects.exists()
    # … while the same start as a running contract is entered, first term from that day.
    response = post(client, "/api/v1/appointments", bearer(city_admin), existing_body(
        bj_planner, wanshou, start=start, terms=None, contract_number="HT-2026-001", signed_on=start))
    assert response.status_code == 201, response.content.decode()
    assert response.json()["end"] == services.term_end(D(start), 1).isoformat()


def test_overlapping_existing_entries_over_the_cap_are_refused(client, bearer, city_admin, haidian, bj_planner, in_2026):
    headers = bearer(city_admin)
    units = units_of(haidian, 4)
    starts = ["2019-07-01", "2021-03-01", "2024-09-01"]
    for unit, start in zip(units, starts):
        terms = existing.terms_plan(city=unit.city, start=start,
                                    terms=_running_terms(D(start), in_2026.today), today=in_2026.today)
        response = post(client, "/api/v1/appointments", headers, existing_body(
            bj_planner, unit, start=start, terms=[{"start": t.start.isoformat(), "end": t.end.isoformat()} for t in terms],
            signed_on=terms[-1].start.isoformat()))
        assert response.status_code == 201, response.content.decode()

    over = post(client, "/api/v1/appointments", headers, existing_body(
        bj_planner, units[3], start="2025-09-01", terms=None, signed_on="2025-08-20"))
    assert over.status_code == 409 and over.json()["code"] == "unit_cap_reached"
    assert "不得超过 3 个（B19(2)）" in over.json()["detail"] and over.json()["details"]["field"] == "planner"
    assert not Appointment.objects.filter(unit=units[3]).exists()
    assert IssuedDocument.objects.filter(subject_type="appointments.appointment").count() == 6

    # The same planner-unit pair cannot be entered twice.
    again = post(client, "/api/v1/appointments", headers, existing_body(bj_planner, units[0], contract_number="X-2"))
    assert again.status_code == 409 and again.json()["code"] == "already_in_unit" and "重叠" in again.json()["detail"]


def _running_terms(start: dt.date, today: dt.date) -> list[dict]:
    """A first year, then three-year renewals until one runs past `today`."""
    terms = [{"start": start, "end": services.term_end(start, 1)}]
    while terms[-1]["end"] < today:
        begin = terms[-1]["end"] + dt.timedelta(days=1)
        terms.append({"start": begin, "end": services.term_end(begin, 3)})
    return [{"start": t["start"].isoformat(), "end": t["end"].isoformat()} for t in terms]


def test_the_cap_counts_the_real_dates_of_ended_and_upcoming_service(city_admin, haidian, bj_planner, in_2026):
    """Cap 3: three units held at once on some day in the past is over the cap even if one ended since;
    units held one after another are not."""
    units = units_of(haidian, 5)
    today = in_2026.today
    spans = [(units[0].pk, D("2019-07-01"), D("2020-06-30")),  # ended long ago
             (units[1].pk, D("2020-07-01"), D("2027-06-30")),
             (units[2].pk, D("2024-01-01"), D("2026-12-31"))]
    plan = existing.terms_plan(city=haidian.city, start="2025-07-01", terms=None, today=today)
    existing.rules_check(city=haidian.city, planner=bj_planner, unit=units[3], role="responsible_planner",
                         plan=plan, spans=spans)  # 3 at most on any day: allowed
    spans.append((units[4].pk, D("2025-12-01"), D("2026-02-28")))  # ended before today, but ran with the others
    with pytest.raises(Conflict) as refused:
        existing.rules_check(city=haidian.city, planner=bj_planner, unit=units[3], role="responsible_planner",
                             plan=plan, spans=spans)
    assert refused.value.code == "unit_cap_reached" and "2025-12-01" in refused.value.message


@pytest.mark.parametrize("overrides, code, words", [
    ({"terms": [{"start": "2019-07-01", "end": "2021-06-30"}]}, "term_length_invalid",
     ["第 1 个聘期（首聘）应为 1 年（B19(2)）", "2020-06-30"]),
    ({"terms": [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-07-01", "end": "2024-06-30"},
                {"start": "2024-07-01", "end": "2027-06-30"}]}, "term_length_invalid", ["续聘", "1 至 3 年"]),
    ({"terms": [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-09-01", "end": "2023-08-31"},
                {"start": "2023-09-01", "end": "2026-08-31"}]}, "terms_gap", ["间隔", "2020-07-01"]),
    ({"terms": [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-06-01", "end": "2023-05-31"}]},
     "terms_overlap", ["重叠"]),
    ({"terms": [{"start": "2019-07-01", "end": "2019-06-30"}]}, "term_end_before_start", ["早于开始日期"]),
    ({"terms": [{"start": "2019-08-01", "end": "2020-07-31"}]}, "term_start_mismatch", ["2019-07-01"]),
    ({"terms": [{"start": "2019-07-01", "end": "2020-06-30"}, {"start": "2020-07-01", "end": "2023-06-30"}]},
     "existing_term_over", ["2023-06-30", "届满"]),
    ({"terms": None}, "existing_term_over", ["2020-06-30"]),
    ({"start": "2026-05-01", "terms": None}, "existing_not_started", ["不能晚于今天"]),
    ({"terms": [{"start": "2019-07-01"}]}, "missing_date", ["结束日期"]),
    ({"terms": "2019-07-01~2020-06-30;2020-07-01"}, "invalid_terms", ["开始日期~结束日期"]),
    ({"contract_number": ""}, "contract_number_required", ["纸质聘用合同的编号"]),
    ({"contract_number": "13912345678"}, "invalid_contract_number", ["手机号"]),
    ({"signed_on": "2026-04-01"}, "signed_on_in_future", ["不能晚于今天"]),
    ({"signed_on": "2019-13-01"}, "invalid_date", ["不是有效日期"]),
])
def test_wrong_terms_and_paper_details_are_refused_in_chinese(
    client, bearer, city_admin, wanshou, bj_planner, in_2026, overrides, code, words
):
    response = post(client, "/api/v1/appointments", bearer(city_admin), existing_body(bj_planner, wanshou, **overrides))
    assert response.status_code == 400, response.content.decode()
    data = response.json()
    assert data["code"] == code, data
    for word in words:
        assert word in data["detail"], data["detail"]
    assert data["details"]["field"] in ("start", "terms", "contract_number", "signed_on")
    assert not Appointment.objects.exists()


def test_terms_may_be_typed_as_text(city_admin, wanshou, bj_planner, in_2026):
    appointment = existing.appointment_existing_enter(
        actor=city_admin, planner=bj_planner, unit=wanshou, role="", start="2019/7/1",
        terms="2019-07-01~2020-06-30；2020年7月1日至2023年6月30日\n2023.7.1～2026.6.30",
        contract_number="HT-7", signed_on="2023-06-30",
    )
    assert appointment.role == "responsible_planner" and appointment.term_no == 3 and appointment.end == D("2026-06-30")


def test_planners_of_running_contracts_must_be_in_the_pool(client, bearer, city_admin, beijing, wanshou, in_2026):
    candidate = make_planner(beijing, "未入库者", pool_status="candidate")
    response = post(client, "/api/v1/appointments", bearer(city_admin), existing_body(candidate, wanshou))
    assert response.status_code == 409 and response.json()["code"] == "planner_not_in_pool"
    assert "名册导入" in response.json()["detail"]


def test_scoping_other_district_is_404_and_other_roles_403(
    client, bearer, district_chaoyang, street_office, pds_admin, wanshou, bj_planner, in_2026
):
    body = existing_body(bj_planner, wanshou)
    assert post(client, "/api/v1/appointments", bearer(district_chaoyang), body).status_code == 404
    assert post(client, "/api/v1/appointments", bearer(pds_admin), body).status_code == 404
    assert post(client, "/api/v1/appointments", bearer(street_office), body).status_code == 403
    assert not Appointment.objects.exists()


def test_the_documents_verify_and_their_pdfs_say_they_record_paper_originals(
    client, bearer, anon, city_admin, wanshou, bj_planner, in_2026
):
    headers = bearer(city_admin)
    body = post(client, "/api/v1/appointments", headers, existing_body(bj_planner, wanshou)).json()
    note = "本文书为纸质原件（编号海万合字〔2023〕第12号，签订于2023-06-20）的系统记录"
    for name in ("contract", "certificate"):
        response = client.get(f"/api/v1/appointments/{body['id']}/{name}.pdf", **headers)
        assert response.status_code == 200
        assert note in flat(extract_text(io.BytesIO(response.content)))
    assert client.get(f"/api/v1/appointments/{body['id']}/dispatch-notice.pdf", **headers).status_code == 404
    for document in body["documents"]:
        code = document["verification_code"].replace("-", "").replace(" ", "")
        verified = anon.get(f"/api/v1/documents/verify/{code}")
        assert verified.status_code == 200 and verified.json()["valid"] is True
        assert verified.json()["holder_name"] == "林清源"


def test_the_dossier_and_detail_pages_show_the_history(login, city_admin, wanshou, bj_planner, in_2026):
    appointment = existing.appointment_existing_enter(
        actor=city_admin, planner=bj_planner, unit=wanshou, role="responsible_planner", start="2019-07-01",
        terms=BJ_TERMS, contract_number="海万合字〔2023〕第12号", signed_on="2023-06-20",
    )
    client = login(city_admin)
    dossier = client.get(f"/pool/{bj_planner.pk}/").content.decode()
    for text in ("2019-07-01", "2020-07-01", "2023-07-01", "既有聘任补录", "B19(1)", "B19(2)"):
        assert text in dossier, text
    detail = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "既有聘任补录" in detail and "海万合字〔2023〕第12号" in detail and "2023-06-20" in detail
    assert "2020-07-01 至 2023-06-30" in detail


def test_the_entry_page_keeps_what_was_typed_on_refusal_then_enters_the_contract(
    login, district_haidian, pds_officer, chaoyang, wanshou, bj_planner, in_2026
):
    client = login(district_haidian)
    assert "补录既有聘任" in client.get("/appointments/").content.decode()
    page = client.get("/appointments/existing/new/").content.decode()
    assert "万寿路街道" in page and units_of(chaoyang, 1)[0].name not in page and "1 至 3 年" in page
    form = {"unit": wanshou.pk, "planner": bj_planner.pk, "role": "responsible_planner", "start": "2019-07-01",
            "terms": "2019-07-01~2020-06-30\n2020-09-01~2023-08-31", "contract_number": "海万合字〔2023〕第12号",
            "signed_on": "2023-06-20"}
    refused = client.post("/appointments/existing/new/", form)
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "间隔" in text and "海万合字〔2023〕第12号" in text and "2020-09-01~2023-08-31" in text
    assert 'id="id_terms" rows="4"' in text and 'aria-invalid="true"' in text
    form["terms"] = "2019-07-01~2020-06-30\n2020-07-01~2023-06-30\n2023-07-01~2026-06-30"
    done = client.post("/appointments/existing/new/", form)
    appointment = Appointment.objects.get(source="existing")
    assert done.status_code == 302 and done["Location"] == f"/appointments/{appointment.pk}/"
    # A Pingdingshan district officer does not enter running contracts (the city dispatches).
    assert login(pds_officer).get("/appointments/existing/new/").status_code == 403
