import pytest
from django.test import Client

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db
PASSWORD = "Test-pass-2026!"


def logged_in(username, role, city):
    User.objects.create_user(username, password=PASSWORD, role=role, city=city)
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_policy_page_is_public_and_in_chinese(policy_cities):
    response = Client().get("/cities/pingdingshan/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "平顶山市政策配置" in text and "不予续聘" in text and "P5(4)1" in text


def test_city_admin_saves_a_policy_change_from_the_form(policy_cities):
    client = logged_in("admin", Role.CITY_ADMIN, policy_cities["beijing"])
    form = client.get("/cities/beijing/edit/")
    assert form.status_code == 200 and "csrfmiddlewaretoken" in form.content.decode()
    data = {name: form.context["form"][name].value() for name in form.context["form"].fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["notice_working_days"] = 6
    response = client.post("/cities/beijing/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy_cities["beijing"].policy.refresh_from_db()
    assert policy_cities["beijing"].policy.notice_working_days == 6
    assert ActionLog.objects.filter(action="cities.policy_update").count() == 1


def test_invalid_form_keeps_what_the_user_typed(policy_cities):
    client = logged_in("admin", Role.CITY_ADMIN, policy_cities["beijing"])
    form = client.get("/cities/beijing/edit/").context["form"]
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data["renewal_years_min"] = 5
    data["grades"] = "[not json"
    response = client.post("/cities/beijing/edit/", data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "不是有效的 JSON" in text
    assert "[not json" in text
    policy_cities["beijing"].policy.refresh_from_db()
    assert policy_cities["beijing"].policy.renewal_years_min == 1


def test_district_officer_may_not_open_the_policy_editor(policy_cities):
    client = logged_in("officer", Role.DISTRICT_OFFICER, policy_cities["beijing"])
    response = client.get("/cities/beijing/edit/")
    assert response.status_code == 403
    assert "市级管理员" in response.content.decode()
