"""Pool pages: list with filters (full / public), Excel export without full identifiers, dossier,
removal and commission forms, a planner's leave request; scoping and constant query counts."""
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from rpms.accounts.models import Role, User
from rpms.registry.models import Planner, PoolStatus
from rpms.registry.services import planner_link_user

from .factories import pool_member

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def text(response):
    return response.content.decode()


@pytest.fixture
def pool(beijing, haidian, chaoyang):
    return [
        pool_member(beijing, "甲规划", districts=[haidian], specialties=["urban_rural_planning"]),
        pool_member(beijing, "乙设计", districts=[chaoyang], specialties=["landscape"]),
    ]


def test_the_pool_page_for_city_administrators(pool, city_admin):
    page = text(logged_in(city_admin).get("/pool/"))
    assert "甲规划" in page and "乙设计" in page and "导出 Excel" in page and "定向委托入库" in page
    for planner in pool:
        assert planner.id_number not in page and planner.mobile not in page
        assert planner.id_number[-4:] in page  # the masked form is shown
    filtered = text(logged_in(city_admin).get("/pool/?specialty=landscape"))
    assert "乙设计" in filtered and "甲规划" not in filtered


def test_district_officers_see_public_fields_and_no_dossier_links(pool, district_haidian):
    page = text(logged_in(district_haidian).get("/pool/"))
    assert "甲规划" in page and "<th>身份证号</th>" not in page and f"/pool/{pool[0].pk}/" not in page
    for planner in pool:
        assert planner.id_number[-4:] + "<" not in page and planner.mobile[-4:] + "<" not in page
    assert logged_in(district_haidian).get(f"/pool/{pool[0].pk}/").status_code == 404


def test_other_roles_cannot_open_the_pool(pool, street_office):
    assert logged_in(street_office).get("/pool/").status_code == 403
    assert Client().get("/pool/").status_code == 302


def test_the_export_masks_identifiers(pool, city_admin, district_haidian):
    response = logged_in(city_admin).get("/pool/export.xlsx?status=active")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert "身份证号（掩码）" in rows[0] and len(rows) == 3
    flat = " ".join(" ".join(r) for r in rows)
    for planner in pool:
        assert planner.id_number not in flat and planner.mobile not in flat
        assert planner.name in flat
    public = load_workbook(io.BytesIO(logged_in(district_haidian).get("/pool/export.xlsx").content)).active
    header = [c.value for c in next(public.iter_rows(max_row=1))]
    assert "身份证号（掩码）" not in header and "手机号（掩码）" not in header and "姓名/团队名称" in header


def test_the_dossier_shows_identifiers_to_the_citys_administrators_only(pool, city_admin, auditor, pds_admin):
    planner = pool[0]
    admin_page = text(logged_in(city_admin).get(f"/pool/{planner.pk}/"))
    assert planner.id_number in admin_page and "服务职责" in admin_page and "工作纪律与管理要求" in admin_page
    auditor_page = text(logged_in(auditor).get(f"/pool/{planner.pk}/"))
    assert planner.id_number not in auditor_page and planner.id_number[-4:] in auditor_page
    assert logged_in(pds_admin).get(f"/pool/{planner.pk}/").status_code == 404


def test_removal_through_the_form(pool, city_admin):
    planner = pool[0]
    client = logged_in(city_admin)
    form = text(client.get(f"/pool/{planner.pk}/remove/"))
    assert "无正当理由长期拒绝服务" in form and "csrfmiddlewaretoken" in form
    bad = client.post(f"/pool/{planner.pk}/remove/", {"ground": "nope", "note": "说明"})
    assert bad.status_code == 400 and "不在本市规定的情形之中" in text(bad) and "说明" in text(bad)
    done = client.post(f"/pool/{planner.pk}/remove/", {"ground": "other_unsuitable", "note": "不宜继续", "confirm": "1"})
    assert done.status_code == 302
    planner.refresh_from_db()
    assert planner.pool_status == PoolStatus.REMOVED
    assert "调出资源库" in text(client.get(f"/pool/{planner.pk}/"))


def test_direct_commission_through_the_form(beijing, pingdingshan, city_admin, pds_admin):
    client = logged_in(city_admin)
    assert client.get("/pool/commission/").status_code == 200
    missing = client.post("/pool/commission/", {"name": "无理由者", "kind": "individual"})
    assert missing.status_code == 400 and "请填写定向委托的理由" in text(missing)
    done = client.post("/pool/commission/", {"name": "委托者", "kind": "individual", "reason": "急需",
                                            "specialties": ["urban_design"], "districts": ["110108"],
                                            "experience_years": "12", "title_level": "senior", "degree": "doctor",
                                            # B18: commission runs the eligibility rules (issue #12)
                                            "title_field": "urban_design", "declarations": ["familiarity", "commitment"]})
    assert done.status_code == 302
    planner = Planner.objects.get(name="委托者")
    assert planner.source == "commission" and list(planner.familiar_districts.values_list("code", flat=True)) == ["110108"]
    assert logged_in(pds_admin).get("/pool/commission/").status_code == 200
    refused = logged_in(pds_admin).post("/pool/commission/", {"name": "跳过公示", "kind": "individual", "reason": "急"})
    assert refused.status_code == 409


def test_a_planner_asks_to_leave_from_the_dossier(pool, city_admin, beijing):
    user = User.objects.create_user(username="self", password="x-Pass-2026!", role=Role.PLANNER, city=beijing)
    planner = planner_link_user(actor=None, planner=pool[0], user=user)
    Planner.objects.filter(pk=planner.pk).update(admitted_at=planner.created_at)
    client = logged_in(user)
    assert client.get("/pool/mine/")["Location"] == f"/pool/{planner.pk}/"
    page = text(client.get(f"/pool/{planner.pk}/"))
    assert "申请退出资源库" in page and planner.id_number in page
    assert client.post(f"/pool/{planner.pk}/leave/", {"note": "退休"}).status_code == 302
    pool_page = text(logged_in(city_admin).get("/pool/"))
    assert "申请退出" in pool_page
    remove_form = text(logged_in(city_admin).get(f"/pool/{planner.pk}/remove/"))
    assert 'value="voluntary_withdrawal" required checked' in remove_form
    other = logged_in(User.objects.create_user(username="other", password="x-Pass-2026!", role=Role.PLANNER))
    assert other.post(f"/pool/{planner.pk}/leave/", {"note": "冒名"}).status_code == 404


def test_the_pool_page_keeps_a_constant_query_count(beijing, haidian, chaoyang, city_admin, django_assert_max_num_queries):
    client = logged_in(city_admin)
    pool_member(beijing, "起始", districts=[haidian])
    with django_assert_max_num_queries(30) as small:
        client.get("/pool/")
    for i in range(15):
        pool_member(beijing, f"规划师{i}", districts=[haidian, chaoyang])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/pool/")
    assert "规划师14" in text(response)


def test_a_registered_applicant_is_told_the_way_to_a_dossier_not_404(pingdingshan, street_office):
    """Issue #17 item 2: a new applicant's 我的档案 answered 404 and 继续教育 403 (no registry record yet)."""
    from rpms.accounts.services import planner_account_register

    user = planner_account_register(username="applicant17", password="Applicant-pass-2026!", display_name="申请人甲",
                                    email="applicant17@example.invalid", mobile="13800000017", city="pingdingshan")
    client = logged_in(user)
    for path, heading in (("/pool/mine/", "我的档案"), ("/training/", "继续教育")):
        page = client.get(path)
        assert page.status_code == 200, path
        body = text(page)
        assert heading in body and "尚未关联责任规划师档案" in body
        assert 'href="/recruitment/"' in body and 'href="/recruitment/mine/"' in body
    assert logged_in(street_office).get("/training/").status_code == 403  # the other roles: as before
