import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rpms.core.models import ActionLog
from rpms.geography.models import ResponsibilityUnit, Subdistrict
from rpms.geography.selectors import unit_list
from rpms.geography.services import unit_merge

from .helpers import CHAOYANG, HAIDIAN, subdistricts_of


@pytest.fixture
def haidian_unit(beijing_units):
    return unit_list(city=beijing_units, district_code=HAIDIAN)[0]


@pytest.fixture
def chaoyang_unit(beijing_units):
    return unit_list(city=beijing_units, district_code=CHAOYANG)[0]


def test_pages_need_a_login(client, haidian_unit):
    response = client.get(reverse("geography:unit_detail", args=[haidian_unit.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_haidian_officer_sees_a_haidian_unit_page(client, haidian_unit, haidian_officer):
    client.force_login(haidian_officer)
    response = client.get(reverse("geography:unit_detail", args=[haidian_unit.pk]))

    assert response.status_code == 200
    text = response.content.decode()
    assert haidian_unit.name in text
    assert "中心城区" in text and "城市更新" in text  # zone type and its focus from the policy
    assert "操作日志" in text and "按街道乡镇为北京市建立" in text  # history from the audit trail
    assert "更名" in text


def test_haidian_officer_gets_404_for_a_chaoyang_unit_page(client, chaoyang_unit, haidian_officer):
    client.force_login(haidian_officer)
    for name in ("geography:unit_detail",):
        response = client.get(reverse(name, args=[chaoyang_unit.pk]))
        assert response.status_code == 404
        assert chaoyang_unit.name not in response.content.decode()
        assert "记录不存在或您无权查看" in response.content.decode()
    response = client.post(reverse("geography:unit_rename", args=[chaoyang_unit.pk]), {"name": "改名"})
    assert response.status_code == 404
    chaoyang_unit.refresh_from_db()
    assert chaoyang_unit.name != "改名"


def test_unit_list_shows_only_the_officers_district(client, beijing_units, haidian_officer):
    client.force_login(haidian_officer)
    response = client.get(reverse("geography:unit_list"))

    assert response.status_code == 200
    units = response.context["units"]
    assert len(units) == 29 and {u.district.code for u in units} == {HAIDIAN}
    assert response.context["can_merge"] is True  # the only district is selected
    assert "合并街道乡镇为一个责任单元" in response.content.decode()
    assert client.get(reverse("geography:unit_list"), {"district": CHAOYANG}).status_code == 404


def test_city_admin_filters_the_unit_list_by_district(client, beijing_units, city_admin):
    client.force_login(city_admin)
    first = client.get(reverse("geography:unit_list"))
    assert first.context["counts"]["units"] == 349  # every unit counted; listed 100 a page (issue #15)
    listed = []
    for page in range(1, first.context["paging"]["pages"] + 1):
        listed += client.get(reverse("geography:unit_list"), {"page": page}).context["units"]
    assert len(listed) == len({u.pk for u in listed}) == 349
    response = client.get(reverse("geography:unit_list"), {"district": CHAOYANG})
    assert len(response.context["units"]) == 43
    assert response.context["counts"]["uncovered"] == 43


def test_merging_on_the_page(client, beijing_units, haidian, haidian_officer):
    client.force_login(haidian_officer)
    codes = [s.code for s in subdistricts_of(haidian, 2)]

    response = client.post(reverse("geography:unit_merge"), {"district": HAIDIAN, "subdistricts": codes, "name": "页面合并"})

    unit = ResponsibilityUnit.objects.get(name="页面合并", dissolved_at__isnull=True)
    assert response.status_code == 302 and response["Location"] == reverse("geography:unit_detail", args=[unit.pk])
    assert sorted(s.code for s in unit.current_subdistricts) == sorted(codes)
    assert ActionLog.objects.filter(action="geography.unit_merge").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "已组成责任单元“页面合并”" in page


def test_a_refused_merge_on_the_page_shows_the_reason_and_keeps_the_input(client, beijing_units, haidian, haidian_officer):
    client.force_login(haidian_officer)
    code = subdistricts_of(haidian, 1)[0].code

    response = client.post(reverse("geography:unit_merge"), {"district": HAIDIAN, "subdistricts": [code], "name": "只选一个"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "至少需要选择两个街道乡镇" in text and 'value="只选一个"' in text
    assert not ActionLog.objects.filter(action="geography.unit_merge").exists()


def test_merging_chaoyang_subdistricts_on_the_page_is_404_for_a_haidian_officer(client, beijing_units, chaoyang, haidian_officer):
    client.force_login(haidian_officer)
    codes = [s.code for s in subdistricts_of(chaoyang, 2)]
    response = client.post(reverse("geography:unit_merge"), {"district": HAIDIAN, "subdistricts": codes, "name": "越权"})
    assert response.status_code == 404
    assert not ResponsibilityUnit.objects.filter(name="越权").exists()


def test_splitting_on_the_page_by_groups(client, beijing_units, haidian, haidian_officer):
    a, b, c = subdistricts_of(haidian, 3)
    unit = unit_merge(actor=haidian_officer, subdistricts=[a, b, c], name="三合一")
    client.force_login(haidian_officer)

    response = client.post(
        reverse("geography:unit_split", args=[unit.pk]),
        {"mode": "groups", f"group_{a.code}": "1", f"group_{b.code}": "1", f"group_{c.code}": "2"},
    )

    assert response.status_code == 302
    unit.refresh_from_db()
    assert not unit.is_active
    names = set(ResponsibilityUnit.objects.filter(dissolved_at__isnull=True, district=haidian).values_list("name", flat=True))
    assert f"{a.name}、{b.name}" in names and c.name in names


def test_splitting_on_the_page_each_subdistrict(client, beijing_units, haidian, haidian_officer):
    unit = unit_merge(actor=haidian_officer, subdistricts=subdistricts_of(haidian, 2), name="二合一")
    client.force_login(haidian_officer)
    response = client.post(reverse("geography:unit_split", args=[unit.pk]), {"mode": "each"})
    assert response.status_code == 302
    assert ActionLog.objects.filter(action="geography.unit_split").count() == 1


def test_auditor_reads_but_cannot_change(client, chaoyang_unit, beijing_units, chaoyang, auditor):
    client.force_login(auditor)
    response = client.get(reverse("geography:unit_detail", args=[chaoyang_unit.pk]))
    assert response.status_code == 200
    assert "保存名称" not in response.content.decode()
    response = client.get(reverse("geography:unit_list"), {"district": CHAOYANG})
    assert response.status_code == 200 and response.context["can_merge"] is False
    codes = [s.code for s in subdistricts_of(chaoyang, 2)]
    response = client.post(reverse("geography:unit_merge"), {"district": CHAOYANG, "subdistricts": codes, "name": "审计"})
    assert response.status_code == 403
    assert not ResponsibilityUnit.objects.filter(name="审计").exists()


def test_a_planner_gets_403_on_the_pages(client, haidian_unit, planner_user):
    client.force_login(planner_user)
    assert client.get(reverse("geography:unit_list")).status_code == 403
    assert client.get(reverse("geography:unit_detail", args=[haidian_unit.pk])).status_code == 403
    assert client.get(reverse("geography:district_list")).status_code == 403


def test_district_list_shows_zone_types(client, beijing_units, haidian_officer):
    client.force_login(haidian_officer)
    response = client.get(reverse("geography:district_list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "首都功能核心区" in text and "生态涵养区" in text and "东城区" in text
    assert reverse("geography:district_detail", args=[HAIDIAN]) in text
    assert reverse("geography:district_detail", args=[CHAOYANG]) not in text


def test_city_admin_overrides_a_subdistrict_zone_type_on_the_district_page(client, beijing_units, city_admin):
    client.force_login(city_admin)
    url = reverse("geography:district_detail", args=["110111"])
    assert "沿用所属区的类型" in client.get(url).content.decode()

    response = client.post(reverse("geography:subdistrict_zone_type", args=["110111"]),
                           {"subdistrict": "110111110", "zone_type": "eco_conservation"})

    assert response.status_code == 302
    assert Subdistrict.objects.get(code="110111110").zone_type == "eco_conservation"
    assert ActionLog.objects.filter(action="geography.subdistrict_zone_type_set", article="B13").count() == 1


def test_an_unknown_zone_type_on_the_page_is_400_in_chinese(client, beijing_units, city_admin):
    client.force_login(city_admin)
    response = client.post(reverse("geography:subdistrict_zone_type", args=["110111"]),
                           {"subdistrict": "110111110", "zone_type": "hills"})
    assert response.status_code == 400
    assert "不在北京市的政策配置中" in response.content.decode()


def test_a_district_officer_sees_no_override_form_and_cannot_post_one(client, beijing_units, haidian_officer):
    client.force_login(haidian_officer)
    response = client.get(reverse("geography:district_detail", args=[HAIDIAN]))
    assert response.status_code == 200 and "沿用所属区的类型" not in response.content.decode()
    response = client.post(reverse("geography:subdistrict_zone_type", args=[HAIDIAN]),
                           {"subdistrict": "110108001", "zone_type": "core"})
    assert response.status_code == 403
    assert client.get(reverse("geography:district_detail", args=[CHAOYANG])).status_code == 404


def test_unit_list_page_query_count_does_not_grow(client, beijing_units, city_admin):
    client.force_login(city_admin)
    counts = []
    for district in ("110119", "110105", ""):  # 18, 43, then all 349 units
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("geography:unit_list"), {"district": district})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 15
    assert counts[2] <= counts[0]  # without a district there is no merge form to fill
