"""Every public information page: Chinese, served with local assets only, under 300 KB of assets before
images (the page itself, its style sheets and scripts), and free of ID numbers and mobiles."""
import re

import pytest
from django.contrib.staticfiles import finders

from rpms.publicinfo import services

from .conftest import SECRET_ID, SECRET_MOBILE, make_planner

pytestmark = pytest.mark.django_db

ASSET_BUDGET = 300 * 1024
PUBLIC_PAGES = ("/info/", "/info/announcements/", "/info/policies/", "/info/policies/beijing/",
                "/info/policies/pingdingshan/", "/info/map/", "/info/map/?city=pingdingshan", "/info/map/110108/",
                "/info/open-data/", "/find/?q=万寿路", "/")
ASSET_RE = re.compile(r'<(?:link|script)\b[^>]*(?:href|src)="([^"]+)"')


@pytest.fixture
def populated(beijing, wanshou, appoint, city_admin):
    planner = make_planner(beijing, "页面测试规划师", id_number=SECRET_ID, mobile=SECRET_MOBILE)
    appoint(wanshou, planner)
    interpretation = services.interpretation_create(actor=city_admin, city=beijing, title="覆盖要求解读", body="说明",
                                                    articles="B4")
    services.interpretation_publish(actor=city_admin, interpretation=interpretation)
    announcement = services.announcement_create(actor=city_admin, city=beijing, kind="other", title="页面测试公告",
                                                body="正文")
    services.announcement_publish(actor=city_admin, announcement=announcement)
    return announcement


def _asset_bytes(url: str) -> int:
    assert url.startswith("/static/"), f"asset not served locally: {url}"
    path = finders.find(url.removeprefix("/static/"))
    assert path, f"missing static file {url}"
    with open(path, "rb") as handle:
        return len(handle.read())


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_chinese_local_light_and_free_of_personal_data(anon, populated, path):
    response = anon.get(path)
    html = response.content.decode()
    assert response.status_code == 200, path
    assert '<html lang="zh-Hans">' in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), path
    total = len(response.content) + sum(_asset_bytes(url) for url in ASSET_RE.findall(html) if not url.startswith("/api/"))
    assert total < ASSET_BUDGET, (path, total)
    assert SECRET_ID not in html and SECRET_MOBILE not in html


def test_announcement_detail_page_is_light_too(anon, populated):
    response = anon.get(populated.get_absolute_url())
    assert response.status_code == 200 and len(response.content) < ASSET_BUDGET


def test_every_form_on_the_manage_pages_carries_a_csrf_token(login, city_admin, populated):
    client = login(city_admin)
    for path in ("/info/manage/", "/info/manage/announcements/new/", f"/info/manage/announcements/{populated.pk}/",
                 "/info/manage/interpretations/new/"):
        html = client.get(path).content.decode()
        forms = re.findall(r'<form\b[^>]*method="post"[^>]*>(.*?)</form>', html, flags=re.DOTALL)
        assert all("csrfmiddlewaretoken" in form for form in forms), path
