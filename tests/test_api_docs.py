import re

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_the_foundation_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/health", "/api/v1/auth/token", "/api/v1/cities", "/api/v1/cities/{code}/policy",
                 "/api/v1/workdays/add", "/api/v1/workdays/count", "/api/v1/cities/{code}/districts",
                 "/api/v1/cities/{code}/units", "/api/v1/cities/{code}/coverage", "/api/v1/audit"):
        assert path in paths, path


def test_api_docs_are_served_without_any_external_asset(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.content.decode())
    assert assets and all(a.startswith("/static/") for a in assets), assets


def test_django_admin_speaks_chinese(client, city_admin):
    from django.contrib.auth.models import Permission

    city_admin.is_staff = True
    city_admin.save()
    city_admin.user_permissions.add(Permission.objects.get(codename="view_city"))
    client.force_login(city_admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "责任规划师管理信息系统" in text and "城市与政策配置" in text
    assert client.get("/admin/cities/city/").status_code == 200


def test_a_malformed_json_body_is_answered_in_chinese(client):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "JSON" in response.json()["message"] and "请求" in response.json()["message"]
