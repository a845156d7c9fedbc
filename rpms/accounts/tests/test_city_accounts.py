"""Issue #17 item 7: a city administrator manages its city's district officers and hiring-entity users in pages
and through the API (create with a scope of its city, edit, deactivate/reactivate, reset a password that must be
changed at the next login, see last login), audited with the city's article."""
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from rpms.accounts import city_accounts as services
from rpms.accounts.models import ApiToken, Role, User
from rpms.core.audit import ACTION_EXPORT
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.testing.builders import PASSWORD, user_build

pytestmark = pytest.mark.django_db


def _last(action):
    return ActionLog.objects.filter(action=action).order_by("-pk").first()


# --- services ------------------------------------------------------------------------------------------------------

def test_city_admin_opens_a_district_officer_with_a_temporary_password_and_the_article(city_admin, haidian, chaoyang):
    user, password = services.city_account_create(
        actor=city_admin, username="hd_officer2", display_name="海淀区专班 李四", role=Role.DISTRICT_OFFICER,
        districts=[haidian.pk, chaoyang.pk])
    user.refresh_from_db()
    assert user.city_id == city_admin.city_id and user.role == Role.DISTRICT_OFFICER
    assert set(user.districts.own()) == {haidian, chaoyang}
    assert user.password_must_change is True and user.check_password(password)
    row = _last("accounts.city_account_create")
    assert row.article == "B5、B6" and row.actor_id == city_admin.pk and row.object_id == str(user.pk)
    assert password not in str(row.after) and "李四" in row.summary


def test_a_hiring_entity_gets_subdistricts_of_the_city_and_cites_b7(city_admin, haidian):
    street = haidian.subdistricts.get(code="110108002")
    user, _ = services.city_account_create(actor=city_admin, username="yfd_office", display_name="羊坊店街道办事处",
                                           role=Role.HIRING_ENTITY, subdistricts=[street.pk])
    assert list(user.subdistricts.own()) == [street]
    assert _last("accounts.city_account_create").article == "B5、B7"


def test_pingdingshan_cites_its_own_rule_book(pds_admin, pingdingshan):
    district = pingdingshan.districts.order_by("code").first()
    services.city_account_create(actor=pds_admin, username="pds_officer", display_name="新华区", role=Role.DISTRICT_OFFICER,
                                 districts=[district.pk])
    assert _last("accounts.city_account_create").article.startswith("P")


@pytest.mark.parametrize("role, scope, code", [
    (Role.DISTRICT_OFFICER, {}, "district_required"),
    (Role.HIRING_ENTITY, {}, "subdistrict_required"),
    (Role.CITY_ADMIN, {}, "invalid_role"),
    (Role.PLANNER, {}, "invalid_role"),
])
def test_refused_roles_and_empty_scopes(city_admin, role, scope, code):
    with pytest.raises(DomainError) as caught:
        services.city_account_create(actor=city_admin, username="x_user", display_name="某人", role=role, **scope)
    assert caught.value.code == code
    assert not User.objects.filter(username="x_user").exists()


def test_a_district_of_another_city_is_refused_in_chinese(city_admin, pingdingshan):
    other = pingdingshan.districts.first()
    with pytest.raises(DomainError) as caught:
        services.city_account_create(actor=city_admin, username="x_user", display_name="某人", role=Role.DISTRICT_OFFICER,
                                     districts=[other.pk])
    assert caught.value.code == "district_outside_city" and "不属于北京市" in caught.value.message
    with pytest.raises(DomainError) as caught:
        services.city_account_create(actor=city_admin, username="x_user", display_name="某人", role=Role.HIRING_ENTITY,
                                     subdistricts=[other.subdistricts.first().pk])
    assert caught.value.code == "subdistrict_outside_city"


def test_only_a_city_administrator_acts_and_only_on_its_citys_two_roles(
        city_admin, pds_admin, district_haidian, planner_user, auditor, system_admin, pingdingshan):
    for actor in (district_haidian, planner_user, auditor, system_admin):
        with pytest.raises(Forbidden):
            services.city_account_list(actor=actor)
    pds_officer = user_build("pds_o", Role.DISTRICT_OFFICER, pingdingshan, districts=[pingdingshan.districts.first()])
    for target in (pds_officer, planner_user, pds_admin, system_admin, city_admin):
        with pytest.raises(NotFound):
            services.city_account_get(actor=city_admin, pk=target.pk)
        with pytest.raises(NotFound):
            services.city_account_password_reset(actor=city_admin, user=target)
    assert list(services.city_account_list(actor=city_admin)) == [district_haidian]


def test_edit_changes_role_and_scope_and_audits_before_and_after(city_admin, district_haidian, haidian, chaoyang):
    street = chaoyang.subdistricts.first()
    services.city_account_update(actor=city_admin, user=district_haidian, display_name="建外街道", role=Role.HIRING_ENTITY,
                                 subdistricts=[street.pk])
    district_haidian.refresh_from_db()
    assert district_haidian.role == Role.HIRING_ENTITY
    assert list(district_haidian.districts.own()) == [] and list(district_haidian.subdistricts.own()) == [street]
    row = _last("accounts.city_account_update")
    assert row.before["districts"] == [haidian.code] and row.after["subdistricts"] == [street.code]
    assert row.article == "B5、B7"


def test_deactivation_revokes_tokens_and_reactivation_restores(city_admin, district_haidian, bearer):
    headers = bearer(district_haidian)
    assert Client().get("/api/v1/delegations", **headers).status_code == 200
    services.city_account_deactivate(actor=city_admin, user=district_haidian)
    district_haidian.refresh_from_db()
    assert not district_haidian.is_active
    assert not ApiToken.objects.filter(user=district_haidian, revoked_at__isnull=True).exists()
    assert Client().get("/api/v1/delegations", **headers).status_code == 401
    assert _last("accounts.city_account_deactivate").after["api_tokens_revoked"] == 1
    with pytest.raises(DomainError) as caught:
        services.city_account_deactivate(actor=city_admin, user=district_haidian)
    assert caught.value.code == "already_inactive"
    services.city_account_reactivate(actor=city_admin, user=district_haidian)
    district_haidian.refresh_from_db()
    assert district_haidian.is_active and _last("accounts.city_account_reactivate").article == "B5、B6"


# --- the temporary password ---------------------------------------------------------------------------------------

def test_a_reset_password_must_be_changed_at_the_next_login(city_admin, district_haidian, login):
    old = login(district_haidian)
    _, password = services.city_account_password_reset(actor=city_admin, user=district_haidian)
    assert _last("accounts.city_password_reset").after["password_must_change"] is True
    client = Client()
    response = client.post("/accounts/login/", {"username": district_haidian.username, "password": password})
    assert response.status_code == 302
    response = client.get("/", follow=False)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert client.get("/duties/").status_code == 302
    api = client.get("/api/v1/delegations")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    token = Client().post("/api/v1/auth/token", {"username": district_haidian.username, "password": password},
                          content_type="application/json")
    assert token.status_code == 403 and token.json()["code"] == "password_change_required"
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "临时密码" in page.content.decode()
    response = client.post("/accounts/password/", {"old_password": password, "new_password1": "Neue-Pass-2026!x",
                                                    "new_password2": "Neue-Pass-2026!x"})
    assert response.status_code == 302
    district_haidian.refresh_from_db()
    assert district_haidian.password_must_change is False
    assert client.get("/").status_code == 200
    # The session of the old password ended with it: a staff page sends it to the login page.
    assert old.get("/accounts/delegations/")["Location"].startswith("/accounts/login/")


# --- pages -----------------------------------------------------------------------------------------------------------

def test_create_page_shows_the_password_once_and_keeps_input_when_refused(city_admin, login, haidian, pingdingshan):
    client = login(city_admin)
    assert client.get("/accounts/city/new/").status_code == 200
    other = pingdingshan.districts.first()
    response = client.post("/accounts/city/new/", {
        "username": "new_officer", "display_name": "王五", "email": "wangwu@example.cn", "role": Role.DISTRICT_OFFICER,
        "districts": [str(haidian.pk)], "subdistricts": []} | {"districts": [str(other.pk)]})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="new_officer"' in page and 'value="王五"' in page and "wangwu@example.cn" in page
    assert "所选的区不存在或不属于北京市" in page  # not one of the city's districts: not even offered
    response = client.post("/accounts/city/new/", {
        "username": "new_officer", "display_name": "王五", "email": "", "role": Role.DISTRICT_OFFICER,
        "districts": [str(haidian.pk)]})
    assert response.status_code == 201
    user = User.objects.get(username="new_officer")
    assert "<code class=\"password-once\">" in response.content.decode()
    assert user.password_must_change and list(user.districts.own()) == [haidian]


def test_list_filters_pages_and_shows_last_login(city_admin, district_haidian, district_chaoyang, street_office, haidian,
                                                  login):
    login(district_haidian)  # sets last_login
    client = login(city_admin)
    page = client.get("/accounts/city/").content.decode()
    assert district_haidian.display_name in page and street_office.display_name in page and "从未登录" in page
    page = client.get("/accounts/city/", {"role": Role.HIRING_ENTITY}).content.decode()
    assert street_office.display_name in page and district_haidian.display_name not in page
    page = client.get("/accounts/city/", {"district": haidian.pk}).content.decode()
    assert district_haidian.display_name in page and street_office.display_name in page
    assert district_chaoyang.display_name not in page
    services.city_account_deactivate(actor=city_admin, user=district_chaoyang)
    page = client.get("/accounts/city/", {"status": "inactive"}).content.decode()
    assert district_chaoyang.display_name in page and district_haidian.display_name not in page
    detail = client.get(f"/accounts/city/{district_haidian.pk}/").content.decode()
    assert "最近登录" in detail and "从未登录" not in detail


def test_export_lists_the_accounts_without_passwords_and_is_audited(city_admin, district_haidian, street_office, login):
    response = login(city_admin).get("/accounts/city/export/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert "密码" not in "".join(str(h) for h in rows[0])
    assert {r[0] for r in rows[1:]} == {district_haidian.username, street_office.username}
    row = _last(ACTION_EXPORT)
    assert row.actor_id == city_admin.pk and row.city_code == "beijing" and "本市机构账户列表（2 个）" in row.summary


def test_pages_refuse_other_roles_and_other_cities(district_haidian, pds_admin, city_admin, login):
    assert login(district_haidian).get("/accounts/city/").status_code == 403
    assert login(pds_admin).get(f"/accounts/city/{district_haidian.pk}/").status_code == 404
    assert login(pds_admin).post(f"/accounts/city/{district_haidian.pk}/password-reset/").status_code == 404


def test_edit_page_keeps_input_and_buttons_work(city_admin, district_haidian, chaoyang, login):
    client = login(city_admin)
    url = f"/accounts/city/{district_haidian.pk}/edit/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"display_name": "海淀专班改名", "email": "bad", "role": Role.DISTRICT_OFFICER,
                                 "districts": [str(chaoyang.pk)]})
    assert response.status_code == 400 and "海淀专班改名" in response.content.decode()
    response = client.post(url, {"display_name": "海淀专班改名", "email": "", "role": Role.DISTRICT_OFFICER,
                                 "districts": [str(chaoyang.pk)]})
    assert response.status_code == 302
    assert list(User.objects.get(pk=district_haidian.pk).districts.own()) == [chaoyang]
    assert client.post(f"/accounts/city/{district_haidian.pk}/deactivate/").status_code == 302
    assert not User.objects.get(pk=district_haidian.pk).is_active
    response = client.post(f"/accounts/city/{district_haidian.pk}/password-reset/")
    assert response.status_code == 200 and "临时密码" in response.content.decode()


# --- API -------------------------------------------------------------------------------------------------------------

def test_api_create_list_patch_deactivate_reset(city_admin, bearer, haidian, chaoyang, district_haidian):
    headers = bearer(city_admin)
    client = Client()
    response = client.post("/api/v1/accounts", {"username": "api_officer", "display_name": "接口开设", "role": "district_officer",
                                                "districts": [haidian.code]}, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["temporary_password"] and body["password_must_change"] is True and body["districts"] == [haidian.code]
    listed = client.get("/api/v1/accounts", {"role": "district_officer"}, **headers).json()
    assert listed["count"] == 2 and {r["username"] for r in listed["results"]} == {"api_officer", district_haidian.username}
    patched = client.patch(f"/api/v1/accounts/{body['id']}", {"districts": [chaoyang.code]},
                           content_type="application/json", **headers)
    assert patched.status_code == 200 and patched.json()["districts"] == [chaoyang.code]
    refused = client.patch(f"/api/v1/accounts/{body['id']}", {"districts": ["410402"]}, content_type="application/json",
                           **headers)
    assert refused.status_code == 400 and refused.json()["code"] == "district_outside_city"
    assert client.post(f"/api/v1/accounts/{body['id']}/deactivate", **headers).json()["is_active"] is False
    assert client.post(f"/api/v1/accounts/{body['id']}/reactivate", **headers).json()["is_active"] is True
    reset = client.post(f"/api/v1/accounts/{body['id']}/reset-password", **headers).json()
    assert reset["temporary_password"] != body["temporary_password"]
    assert User.objects.get(pk=body["id"]).check_password(reset["temporary_password"])


def test_api_refuses_other_roles_and_other_cities(district_haidian, pds_admin, bearer):
    assert Client().get("/api/v1/accounts", **bearer(district_haidian)).status_code == 403
    assert Client().get(f"/api/v1/accounts/{district_haidian.pk}", **bearer(pds_admin)).status_code == 404
    assert Client().post(f"/api/v1/accounts/{district_haidian.pk}/reset-password",
                         **bearer(pds_admin)).status_code == 404
    assert User.objects.get(pk=district_haidian.pk).check_password(PASSWORD)
