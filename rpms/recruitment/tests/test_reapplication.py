"""Issue #12 item 8: a planner already in the city's registry who applies again starts from the
dossier's data, and what they state differently is shown to the reviewer as changes (old → new) —
on the review page, in the API, in the audit row and, once admitted, in the dossier. Both cities."""
import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.core.errors import Conflict
from rpms.core.models import ActionLog
from rpms.geography.models import District
from rpms.recruitment import services
from rpms.recruitment.models import Application
from rpms.recruitment.selectors import application_defaults
from rpms.registry.models import DossierEvent, Planner, PoolStatus

from .factories import (
    BJ_DECLARATIONS,
    PDS_DECLARATIONS,
    applicant,
    beijing_data,
    fictional_id_number,
    fictional_mobile,
    open_call,
    pingdingshan_data,
)

pytestmark = pytest.mark.django_db

CITIES = {
    # code: (admin fixture, ID region, district code, declarations, data builder)
    "beijing": ("city_admin", "110108", "110108", BJ_DECLARATIONS, beijing_data),
    "pingdingshan": ("pds_admin", "410402", "410402", PDS_DECLARATIONS, pingdingshan_data),
}


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture(params=sorted(CITIES))
def case(request, clock):
    """A planner account whose record in the city's registry was removed (left the pool, kept as
    history), and an open call of that city."""
    code = request.param
    admin_fixture, region, district_code, declarations, data = CITIES[code]
    city = request.getfixturevalue(code)
    admin = request.getfixturevalue(admin_fixture)
    clock.set(dt.date(2026, 9, 1))
    user = applicant(f"{code}_back", city, display_name="回库者")
    planner = Planner.objects.create(
        city=city, user=user, name="回库者", id_number=fictional_id_number(501, region=region),
        mobile=fictional_mobile(501), email="back@example.invalid", employer="原规划设计院", degree="bachelor",
        major="城乡规划", major_field="urban_rural_planning", title_level="intermediate",
        title_field="urban_rural_planning", registrations=[], experience_years=10,
        specialties=["urban_rural_planning"], pool_status=PoolStatus.REMOVED, removal_ground="voluntary",
    )
    planner.familiar_districts.set(District.objects.filter(code=district_code))
    call = open_call(admin, city, title=f"{city.name}再次征集", deadline=dt.date(2026, 9, 30))
    return {"city": city, "admin": admin, "user": user, "planner": planner, "call": call,
            "declarations": declarations, "data": data}


def test_the_application_form_starts_from_the_dossiers_data(case):
    planner, call = case["planner"], case["call"]
    page = logged_in(case["user"]).get(f"/recruitment/calls/{call.pk}/apply/").content.decode()
    assert "申请表已按档案中的资料预填" in page and "已调出" in page
    assert f'value="{planner.id_number}"' in page and f'value="{planner.mobile}"' in page
    assert 'value="原规划设计院"' in page and 'name="experience_years" id="id_experience_years" min="0" max="70" value="10"' in page
    assert '<option value="intermediate" selected>' in page
    assert '<option value="bachelor" selected>' in page
    assert 'value="urban_rural_planning" checked' in page


def test_a_newcomer_gets_an_empty_form(case):
    city, call = case["city"], case["call"]
    page = logged_in(applicant(f"{city.code}_new", city, display_name="新人")).get(
        f"/recruitment/calls/{call.pk}/apply/").content.decode()
    assert "预填" not in page and 'value="原规划设计院"' not in page and 'value="新人"' in page


def test_the_api_gives_the_dossiers_data_as_defaults_with_identifiers_masked(case, anon, bearer):
    planner, call = case["planner"], case["call"]
    body = anon.get(f"/api/v1/calls/{call.pk}/application-defaults", **bearer(case["user"])).json()
    assert body["prefilled"] is True and body["planner"] == planner.pk and body["pool_status"] == "removed"
    data = body["data"]
    assert data["employer"] == "原规划设计院" and data["title_level"] == "intermediate"
    assert data["experience_years"] == 10 and data["specialties"] == ["urban_rural_planning"]
    assert "id_number" not in data and planner.id_number not in json.dumps(body)
    assert data["id_number_masked"].startswith(planner.id_number[:3]) and "*" in data["id_number_masked"]


def test_changed_qualifications_are_shown_to_the_reviewer_as_changes(case, anon, bearer):
    city, admin, planner, call = case["city"], case["admin"], case["planner"], case["call"]
    headers = bearer(case["user"])
    # Only what changed is sent; the rest comes from the dossier.
    response = post_json(anon, f"/api/v1/calls/{call.pk}/applications", {
        "employer": "新规划设计院", "title_level": "deputy_senior", "experience_years": 12,
        "declarations": case["declarations"],
    }, headers)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["prior_planner"] == planner.pk
    application = Application.objects.get(pk=created["id"])
    assert (application.id_number, application.mobile, application.name) == (planner.id_number, planner.mobile, "回库者")
    assert application.major == "城乡规划" and application.specialties == ["urban_rural_planning"]

    detail = anon.get(f"/api/v1/applications/{application.pk}", **bearer(admin)).json()
    changes = {c["field"]: c for c in detail["changes"]}
    assert set(changes) == {"employer", "title_level", "experience_years"}
    assert (changes["employer"]["before"], changes["employer"]["after"]) == ("原规划设计院", "新规划设计院")
    assert (changes["title_level"]["label"], changes["title_level"]["before"], changes["title_level"]["after"]) == (
        "职称等级", "中级", "副高级")
    assert (changes["experience_years"]["before_value"], changes["experience_years"]["after_value"]) == (10, 12)
    assert detail["prior_planner"] == planner.pk

    page = logged_in(admin).get(f"/recruitment/applications/{application.pk}/").content.decode()
    assert "与资源库档案相比的变化" in page and "本次为再次申请" in page
    assert "<td>职称等级</td><td>中级</td><td><strong>副高级</strong></td>" in page
    assert "<td>工作单位</td><td>原规划设计院</td><td><strong>新规划设计院</strong></td>" in page
    assert f"/pool/{planner.pk}/" in page
    listing = logged_in(admin).get(f"/recruitment/manage/calls/{call.pk}/").content.decode()
    assert "再次申请，3 项变化" in listing
    log = ActionLog.objects.get(action="recruitment.application_submit", object_id=str(application.pk))
    assert log.after["prior_planner"] == planner.pk and len(log.after["changes"]) == 3
    assert "再次申请入库" in log.summary and log.article == application.eligibility["article"] != ""


def test_an_unchanged_reapplication_says_so(case):
    planner, call = case["planner"], case["call"]
    data = case["data"](name="回库者", id_number=planner.id_number, mobile=planner.mobile, employer="原规划设计院",
                        degree="bachelor", major="城乡规划", degree_field="urban_rural_planning",
                        title_level="intermediate", title_field="urban_rural_planning", registrations=[],
                        experience_years=10, specialties=["urban_rural_planning"],
                        districts=[d.code for d in planner.familiar_districts.all()])
    application = services.application_submit(actor=case["user"], call=call, data=data)
    assert application.prior_planner == planner and application.changes == []
    page = logged_in(case["admin"]).get(f"/recruitment/applications/{application.pk}/").content.decode()
    assert "申请所填资质与档案一致，没有变化" in page


def test_admission_after_a_reapplication_records_the_changes_in_the_dossier(case, clock):
    city, admin, planner, call = case["city"], case["admin"], case["planner"], case["call"]
    data = {**application_defaults(planner), "title_level": "deputy_senior", "declarations": case["declarations"]}
    application = services.application_submit(actor=case["user"], call=call, data=data)
    services.application_review(actor=admin, application=application, decision="approve", reason="符合条件",
                                scores={"background": 80, "title": 80, "experience": 80, "local_familiarity": 80})
    notice = services.notice_publish(actor=admin, call=call, start=dt.date(2026, 9, 1))
    clock.set(notice.end + dt.timedelta(days=1))
    [admitted] = services.notice_close(actor=admin, notice=notice)
    assert admitted.pk == planner.pk  # the same record, back in the pool, with the reviewed data
    planner.refresh_from_db()
    assert planner.pool_status == PoolStatus.ACTIVE and planner.title_level == "deputy_senior"
    applied = DossierEvent.objects.filter(planner=planner, kind="applied").latest("occurred_at")
    assert "再次报名" in applied.summary and "职称等级 中级 → 副高级" in applied.summary
    assert applied.data["changes"][0]["field"] == "title_level"


def test_someone_in_the_pool_cannot_apply_again_even_under_another_id_number(case):
    """The demo's gap: the pool member's record had no ID number, so the check by ID number let the
    account apply again with contradicting data. The account itself now identifies the record."""
    city, planner, call = case["city"], case["planner"], case["call"]
    Planner.objects.filter(pk=planner.pk).update(pool_status=PoolStatus.ACTIVE, id_number="", id_number_index="")
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=case["user"], call=call, data=case["data"](declarations=case["declarations"]))
    assert refused.value.code == "already_in_pool" and "无需再次申请" in refused.value.message
    page = logged_in(case["user"]).get(f"/recruitment/calls/{call.pk}/apply/").content.decode()
    assert "无需再次申请" in page
    assert not Application.objects.exists()


def test_an_id_number_contradicting_the_accounts_dossier_is_refused(case):
    city, call = case["city"], case["call"]
    region = CITIES[city.code][1]
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=case["user"], call=call,
                                    data=case["data"](id_number=fictional_id_number(502, region=region)))
    assert refused.value.code == "identity_mismatch" and "不一致" in refused.value.message


def test_another_accounts_dossier_cannot_be_applied_for(case):
    city, planner, call = case["city"], case["planner"], case["call"]
    stranger = applicant(f"{city.code}_stranger", city)
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=stranger, call=call, data=case["data"](id_number=planner.id_number))
    assert refused.value.code == "identity_taken"


def test_a_record_without_an_account_is_found_by_id_number(case):
    """A person on the roster (no account yet) applying with their ID number is compared with it."""
    city, planner, call = case["city"], case["planner"], case["call"]
    Planner.objects.filter(pk=planner.pk).update(user=None)
    newcomer_account = applicant(f"{city.code}_acct", city)
    data = case["data"](id_number=planner.id_number, employer="另一设计院")
    application = services.application_submit(actor=newcomer_account, call=call, data=data)
    assert application.prior_planner_id == planner.pk
    assert "employer" in {c["field"] for c in application.changes}


def test_the_call_page_lists_reapplications_with_a_constant_query_count(case):
    city, admin, planner, call = case["city"], case["admin"], case["planner"], case["call"]
    client = logged_in(admin)
    region = CITIES[city.code][1]

    def reapply(n):
        user = applicant(f"{city.code}_r{n}", city)
        record = Planner.objects.create(city=city, user=user, name=f"回库{n}", id_number=fictional_id_number(600 + n, region=region),
                                        employer="原单位", pool_status=PoolStatus.REMOVED, specialties=["urban_rural_planning"])
        services.application_submit(actor=user, call=call, data=case["data"](id_number=record.id_number))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/recruitment/manage/calls/{call.pk}/").status_code == 200
        return len(captured)

    reapply(1)
    few = queries()
    reapply(2)
    reapply(3)
    assert queries() == few
