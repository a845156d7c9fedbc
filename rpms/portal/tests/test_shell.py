"""The page shell (base.html, site.css, error pages): Chinese, local assets only, role-aware nav."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

from rpms.accounts.models import User

pytestmark = pytest.mark.django_db

EXTERNAL_ASSET = re.compile(r"""(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
CSS_EXTERNAL = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


def _nav(html: str) -> str:
    match = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    return match.group(0) if match else ""


def _assert_local_only(html: str):
    assert not EXTERNAL_ASSET.search(html), EXTERNAL_ASSET.search(html).group(0)


def test_public_home_is_chinese_phone_ready_and_uses_only_local_assets(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert 'name="viewport"' in html
    assert 'href="/static/css/site.css"' in html
    assert 'class="skip-link" href="#main"' in html and 'id="main"' in html
    _assert_local_only(html)


@pytest.mark.parametrize("path", ["/accounts/login/", "/?q=学院", "/find/", "/no-such-page/"])
def test_public_pages_reference_no_external_asset(client, path):
    html = client.get(path).content.decode()
    assert '<html lang="zh-Hans">' in html
    _assert_local_only(html)


def test_signed_in_pages_reference_no_external_asset(client, city_admin):
    client.force_login(city_admin)
    for path in ("/", "/audit/", "/accounts/password/"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_local_only(response.content.decode())


def test_stylesheet_is_served_from_the_project_and_loads_nothing_external():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert not CSS_EXTERNAL.search(css)
    assert "@font-face" not in css
    assert re.search(r'"Noto Sans CJK SC",\s*sans-serif;', css)
    for selector in (".page-header", ".card", "table.table", ".btn.primary", ".btn.danger", ".field", ".alert.error",
                     ".alert.success", ".alert.info", ".muted", ".badge.warn", ".badge.ok", "ul.errorlist"):
        assert selector in css, selector


def test_static_images_used_by_the_shell_exist():
    static = Path(settings.BASE_DIR) / "static"
    assert (static / "img" / "logo.svg").is_file()
    assert (static / "img" / "favicon.svg").is_file()


def test_logout_is_a_post_form_with_a_csrf_token(client, city_admin):
    client.force_login(city_admin)
    html = client.get("/").content.decode()
    form = re.search(r'<form[^>]*action="/accounts/logout/"[^>]*>.*?</form>', html, re.S)
    assert form is not None
    assert 'method="post"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(0)


def test_anonymous_visitors_see_a_login_link_and_no_staff_navigation(client):
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    nav = _nav(html)
    assert 'href="/recruitment/"' in nav  # public calls and notices (P5(1), P5(2))
    for path in ("/audit/", "/admin/", "/pool/", "/geography/units/", "/recruitment/manage/", "/cities/"):
        assert f'href="{path}"' not in html, path


def test_header_shows_display_name_and_role_label(client, district_officer):
    client.force_login(district_officer)
    html = client.get("/").content.decode()
    header = re.search(r"<header.*?</header>", html, re.S).group(0)
    assert "海淀区工作人员" in header
    assert "区级工作人员" in header


def test_city_admin_navigation_has_every_management_link(client, city_admin):
    client.force_login(city_admin)
    nav = _nav(client.get("/").content.decode())
    for label, path in (("首页", "/"), ("责任单元", "/geography/units/"), ("区划", "/geography/districts/"),
                        ("工作日历", "/workdays/"), ("政策配置", "/cities/"), ("操作日志", "/audit/")):
        assert f'href="{path}"' in nav and label in nav, label
    assert "/admin/" not in nav
    assert 'aria-current="page"' in nav


def test_district_officer_navigation_hides_city_level_links(client, district_officer):
    client.force_login(district_officer)
    nav = _nav(client.get("/").content.decode())
    assert 'href="/geography/units/"' in nav and 'href="/geography/districts/"' in nav
    for path in ("/workdays/", "/cities/", "/audit/", "/admin/"):
        assert f'href="{path}"' not in nav, path


def test_auditor_navigation_offers_the_audit_log_and_read_only_geography(client, auditor):
    client.force_login(auditor)
    nav = _nav(client.get("/").content.decode())
    for path in ("/audit/", "/geography/units/", "/geography/districts/"):
        assert f'href="{path}"' in nav, path
    for path in ("/workdays/", "/cities/"):
        assert f'href="{path}"' not in nav, path


@pytest.mark.parametrize("fixture", ["hiring_entity", "planner_user"])
def test_roles_without_management_pages_get_no_management_links(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))
    html = client.get("/").content.decode()
    for path in ("/geography/units/", "/workdays/", "/cities/", "/audit/", "/admin/"):
        assert f'href="{path}"' not in html, path


def test_staff_users_get_the_admin_link(client, beijing):
    staff = User.objects.create_user(username="ops", password="x", role="city_admin", city=beijing, is_staff=True)
    client.force_login(staff)
    assert 'href="/admin/"' in _nav(client.get("/").content.decode())


def test_unknown_page_gets_the_chinese_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_permission_denied_gets_the_chinese_403(client, db):
    root = User.objects.create_superuser(username="root", password="Root-password-123", email="r@example.invalid")
    client.force_login(root)
    response = client.get("/admin/core/actionlog/add/")  # the admin refuses adding audit rows
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_domain_errors_render_the_chinese_error_page(client, district_officer):
    client.force_login(district_officer)
    response = client.get("/audit/")
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="alert error"' in html
    assert "无权操作" in html


def test_500_page_renders_without_a_request_in_chinese():
    html = get_template("500.html").render()
    assert '<html lang="zh-Hans">' in html
    assert "系统暂时无法处理您的请求" in html
    _assert_local_only(html)
