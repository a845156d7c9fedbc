"""The administrators' account-management pages (/accounts/manage/…; issue 16 item 2): each administrator reaches
its own pages and gets 403 on the others'; a refused form keeps what was typed; the list is paged and searched;
every form carries its CSRF token."""
import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from rpms.accounts.models import Role, User
from rpms.core import clock
from rpms.core.models import ActionLog
from rpms.testing.builders import PASSWORD, user_build

pytestmark = pytest.mark.django_db

BASE = "/accounts/manage/"


@pytest.fixture
def account(beijing):
    return user_build("t_plain", "", beijing, display_name="普通账户")


def _pages(account_id):
    """(method, path) of every management page."""
    return [
        ("get", BASE), ("get", f"{BASE}export/"), ("get", f"{BASE}new/"), ("post", f"{BASE}new/"),
        ("get", f"{BASE}{account_id}/"), ("get", f"{BASE}{account_id}/edit/"), ("post", f"{BASE}{account_id}/edit/"),
        ("post", f"{BASE}{account_id}/deactivate/"), ("post", f"{BASE}{account_id}/reactivate/"),
        ("post", f"{BASE}{account_id}/password-reset/"), ("get", f"{BASE}{account_id}/role/"),
        ("post", f"{BASE}{account_id}/role/"), ("post", f"{BASE}{account_id}/unlock/"),
    ]


SYSTEM_ONLY = {f"{BASE}new/", "edit/", "deactivate/", "reactivate/", "password-reset/"}
SECURITY_ONLY = {"role/", "unlock/"}


def _is(path, suffixes):
    return any(path.endswith(s) for s in suffixes)


@pytest.mark.parametrize("persona", ["audit_admin", "city_admin", "auditor", "planner_user", "district_haidian"])
def test_every_other_role_gets_403_on_every_page(request, login, persona, account):
    client = login(request.getfixturevalue(persona))
    statuses = {(m, p): getattr(client, m)(p, {"username": "x", "display_name": "x", "role": "planner"}).status_code
                for m, p in _pages(account.pk)}
    assert set(statuses.values()) == {403}, statuses
    account.refresh_from_db()
    assert account.is_active and account.role == "" and account.display_name == "普通账户"


def test_the_superuser_uses_the_django_admin_not_these_pages(db, account, system_admin):
    root = User.objects.create_superuser(username="t_root_pages", password=PASSWORD, email="r@example.invalid")
    client = Client()
    client.force_login(root)
    assert client.get(BASE).status_code == 403
    assert client.get("/admin/accounts/user/").status_code == 200
    add_form = client.get("/admin/accounts/user/add/").content.decode()
    assert 'value="city_admin"' in add_form and 'value="system_admin"' not in add_form
    # an installed administrator's role and admin flags are read-only there
    change = client.get(f"/admin/accounts/user/{system_admin.pk}/change/").content.decode()
    assert 'name="role"' not in change and 'name="is_superuser"' not in change and 'name="is_staff"' not in change
    assert 'name="role"' in client.get(f"/admin/accounts/user/{account.pk}/change/").content.decode()


def test_signed_out_visitors_are_sent_to_the_login(anon, account):
    response = anon.get(BASE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_system_admin_reaches_its_pages_and_gets_403_on_the_security_admins(login, system_admin, account):
    client = login(system_admin)
    for method, path in _pages(account.pk):
        if _is(path, SECURITY_ONLY):
            assert getattr(client, method)(path).status_code == 403, path
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}new/").status_code == 200
    assert client.get(f"{BASE}{account.pk}/edit/").status_code == 200
    detail = client.get(f"{BASE}{account.pk}/").content.decode()
    assert f"{BASE}{account.pk}/deactivate/" in detail and f"{BASE}{account.pk}/role/" not in detail
    assert "/accounts/2fa/reset/" not in detail


def test_security_admin_reaches_its_pages_and_gets_403_on_the_system_admins(login, security_admin, account):
    client = login(security_admin)
    for method, path in _pages(account.pk):
        if _is(path, SYSTEM_ONLY):
            assert getattr(client, method)(path, {"username": "x", "display_name": "x"}).status_code == 403, path
    assert not User.objects.filter(username="x").exists()
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}{account.pk}/role/").status_code == 200
    detail = client.get(f"{BASE}{account.pk}/").content.decode()
    assert f'href="/accounts/2fa/reset/{account.pk}/"' in detail
    assert f"{BASE}{account.pk}/role/" in detail and "/deactivate/" not in detail


def test_opening_an_account_shows_the_generated_password_once(login, system_admin, beijing):
    client = login(system_admin)
    response = client.post(f"{BASE}new/", {"username": "page_new", "display_name": "页面开设", "email": "",
                                           "city": str(beijing.pk), "password1": "", "password2": ""})
    assert response.status_code == 201
    html = response.content.decode()
    password = re.search(r'<code class="password-once">([^<]+)</code>', html).group(1)
    user = User.objects.get(username="page_new")
    assert user.check_password(password) and user.city == beijing and user.role == ""
    assert "no-store" in response.get("Cache-Control", "") or "max-age=0" in response.get("Cache-Control", "")
    assert password not in client.get(f"{BASE}{user.pk}/").content.decode()
    row = ActionLog.objects.get(action="accounts.account_create", object_id=str(user.pk))
    assert password not in str(row.after) and row.article == "GB/T 22239-2019 8.1.5.1"


def test_a_refused_account_form_keeps_what_was_typed(login, system_admin, account, beijing):
    client = login(system_admin)
    typed = {"username": "t_plain", "display_name": "重名的同事", "email": "dup@example.invalid",
             "city": str(beijing.pk), "password1": "", "password2": ""}
    response = client.post(f"{BASE}new/", typed)
    html = response.content.decode()
    assert response.status_code == 409 and "该用户名已被使用" in html
    assert 'value="重名的同事"' in html and 'value="dup@example.invalid"' in html
    assert f'<option value="{beijing.pk}" selected>' in html
    response = client.post(f"{BASE}new/", {**typed, "username": "fresh", "password1": "short", "password2": "short"})
    html = response.content.decode()
    assert response.status_code == 400 and 'value="fresh"' in html and "密码" in html
    assert not User.objects.filter(username="fresh").exists()


def test_profile_edit_page_saves_and_refuses_with_what_was_typed(login, system_admin, account):
    client = login(system_admin)
    response = client.post(f"{BASE}{account.pk}/edit/", {"display_name": "新名字", "email": "not-an-email"})
    html = response.content.decode()
    assert response.status_code == 400 and "电子邮箱格式不正确" in html and 'value="新名字"' in html
    response = client.post(f"{BASE}{account.pk}/edit/", {"display_name": "新名字", "email": "ok@example.invalid"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.display_name == "新名字" and account.email == "ok@example.invalid"


def test_deactivate_and_password_reset_buttons(login, system_admin, account):
    own_session = login(account)
    assert own_session.get("/accounts/password/").status_code == 200
    client = login(system_admin)
    assert client.post(f"{BASE}{account.pk}/deactivate/").status_code == 302
    account.refresh_from_db()
    assert not account.is_active
    assert own_session.get("/accounts/password/").status_code == 302  # its session ended with the account
    response = client.post(f"{BASE}{account.pk}/password-reset/")
    password = re.search(r'<code class="password-once">([^<]+)</code>', response.content.decode()).group(1)
    account.refresh_from_db()
    assert account.check_password(password)


def test_administrator_accounts_are_shown_but_not_changeable(login, system_admin, security_admin):
    client = login(system_admin)
    detail = client.get(f"{BASE}{security_admin.pk}/").content.decode()
    assert "create_administrators" in detail and "/deactivate/" not in detail
    assert client.get(f"{BASE}{security_admin.pk}/edit/").status_code == 403
    assert client.post(f"{BASE}{security_admin.pk}/deactivate/").status_code == 403
    security_admin.refresh_from_db()
    assert security_admin.is_active


def test_role_page_validates_scopes_in_chinese_and_keeps_the_selection(login, security_admin, account, beijing,
                                                                        pingdingshan, haidian):
    client = login(security_admin)
    pds_district = pingdingshan.districts.first()
    response = client.post(f"{BASE}{account.pk}/role/", {
        "role": Role.DISTRICT_OFFICER, "city": str(beijing.pk), "districts": [str(haidian.pk), str(pds_district.pk)]})
    html = response.content.decode()
    assert response.status_code == 400 and f"所选的区不属于北京市：{pds_district.name}" in html
    assert f'<option value="{pds_district.pk}" selected>' in html and f'<option value="{haidian.pk}" selected>' in html
    assert '<option value="district_officer" selected>' in html
    account.refresh_from_db()
    assert account.role == ""
    response = client.post(f"{BASE}{account.pk}/role/", {
        "role": Role.DISTRICT_OFFICER, "city": str(beijing.pk), "districts": [str(haidian.pk)]})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.role == Role.DISTRICT_OFFICER and list(account.districts.all()) == [haidian]


def test_role_page_offers_no_administrator_role(login, security_admin, account):
    client = login(security_admin)
    html = client.get(f"{BASE}{account.pk}/role/").content.decode()
    assert 'value="city_admin"' in html and 'value="system_admin"' not in html and 'value="audit_admin"' not in html
    response = client.post(f"{BASE}{account.pk}/role/", {"role": Role.SYSTEM_ADMIN})
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.role == ""


def test_security_admin_cannot_open_its_own_role_page(login, security_admin):
    client = login(security_admin)
    assert client.get(f"{BASE}{security_admin.pk}/role/").status_code == 403
    assert client.post(f"{BASE}{security_admin.pk}/role/", {"role": Role.CITY_ADMIN}).status_code == 403
    security_admin.refresh_from_db()
    assert security_admin.role == Role.SECURITY_ADMIN


def test_unlock_button(login, security_admin, account):
    User.objects.filter(pk=account.pk).update(failed_login_count=5, locked_until=clock.now() + timedelta(minutes=10))
    client = login(security_admin)
    locked = client.get(BASE, {"status": "locked"}).content.decode()
    assert f'href="{BASE}{account.pk}/"' in locked
    assert client.post(f"{BASE}{account.pk}/unlock/").status_code == 302
    account.refresh_from_db()
    assert not account.is_locked()
    after = client.get(BASE, {"status": "locked"}).content.decode()
    assert f'href="{BASE}{account.pk}/"' not in after and "没有符合条件的账户" in after


def test_the_list_is_paged_and_searched(login, system_admin, beijing):
    for n in range(35):
        user_build(f"pg_user_{n:02d}", Role.PLANNER, beijing, display_name=f"分页测试{n:02d}")
    user_build("needle", Role.AUDITOR, None, display_name="要找的审计员", email="needle@example.invalid")
    client = login(system_admin)
    first = client.get(BASE, {"q": "pg_user"}).content.decode()
    assert "共 35 个账户" in first and "第 1 / 2 页" in first
    assert first.count('href="/accounts/manage/') - first.count('href="/accounts/manage/new/') >= 30
    assert "pg_user_00" in first and "pg_user_34" not in first
    second = client.get(BASE, {"q": "pg_user", "page": 2}).content.decode()
    assert "pg_user_34" in second and "pg_user_00" not in second
    by_name = client.get(BASE, {"q": "要找的"}).content.decode()
    assert "needle" in by_name and "共 1 个账户" in by_name
    by_role = client.get(BASE, {"role": Role.AUDITOR}).content.decode()
    assert "needle" in by_role and "pg_user_00" not in by_role


def test_the_list_query_count_does_not_grow_with_rows(login, system_admin, beijing, django_assert_max_num_queries):
    client = login(system_admin)
    for n in range(3):
        user_build(f"qc_{n}", Role.PLANNER, beijing)
    client.get(BASE)
    with django_assert_max_num_queries(12) as few:
        client.get(BASE)
    for n in range(3, 25):
        user_build(f"qc_{n}", Role.PLANNER, beijing)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(BASE)


def test_export_is_a_workbook_and_is_audited(login, security_admin, beijing):
    user_build("exp_me", Role.PLANNER, beijing, display_name="导出对象", email="exp@example.invalid")
    client = login(security_admin)
    response = client.get(f"{BASE}export/", {"q": "exp_me"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "用户名" and rows[1][:3] == ("exp_me", "导出对象", "责任规划师") and len(rows) == 2
    row = ActionLog.objects.get(action="accounts.account_export")
    assert row.actor == security_admin and row.article == "GB/T 22239-2019 8.1.5.3" and row.after["rows"] == 1


def test_every_management_form_is_csrf_protected(system_admin, security_admin, account):
    for actor, path in ((system_admin, f"{BASE}{account.pk}/deactivate/"), (system_admin, f"{BASE}new/"),
                        (security_admin, f"{BASE}{account.pk}/role/")):
        client = Client(enforce_csrf_checks=True)
        client.force_login(actor)
        assert client.post(path, {"username": "csrf_x", "display_name": "x", "role": "planner"}).status_code == 403
    account.refresh_from_db()
    assert account.is_active and account.role == "" and not User.objects.filter(username="csrf_x").exists()
    client = Client()
    client.force_login(system_admin)
    for path in (f"{BASE}new/", f"{BASE}{account.pk}/", f"{BASE}{account.pk}/edit/"):
        html = client.get(path).content.decode()
        for form in re.findall(r'<form[^>]*method="post".*?</form>', html, re.S):
            assert "csrfmiddlewaretoken" in form, (path, form[:120])


# --- navigation ------------------------------------------------------------------------------------------------

def test_administrators_homes_show_their_pages_and_no_institution_work(login, system_admin, security_admin, audit_admin):
    system_home = login(system_admin).get("/").content.decode()
    assert 'href="/accounts/manage/"' in system_home and 'href="/accounts/manage/new/"' in system_home
    assert 'href="/pool/"' not in system_home and 'href="/dispatch/"' not in system_home
    assert 'href="/audit/"' not in system_home
    security_home = login(security_admin).get("/").content.decode()
    assert 'href="/accounts/manage/"' in security_home and 'href="/audit/"' not in security_home
    audit_home = login(audit_admin).get("/").content.decode()
    assert 'href="/audit/"' in audit_home and 'href="/accounts/manage/"' not in audit_home
    assert 'href="/pool/"' not in audit_home


def test_the_superusers_menu_has_no_administrators_page(db):
    root = User.objects.create_superuser(username="t_root_nav", password=PASSWORD, email="r@example.invalid")
    client = Client()
    client.force_login(root)
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html and 'href="/accounts/manage/"' not in html
