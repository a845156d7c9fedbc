import pytest

from rpms.core.errors import DomainError
from rpms.core.models import ActionLog
from rpms.geography.models import District, Subdistrict, SubdistrictKind
from rpms.geography.services import divisions_load

from .helpers import BEIJING_GEOGRAPHY, BEIJING_ZONES_BY_DISTRICT, PINGDINGSHAN_GEOGRAPHY


def test_beijing_loads_sixteen_districts_with_their_zone_types_in_the_listed_order(beijing):
    counts = divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    districts = list(District.objects.filter(city=beijing))
    assert len(districts) == 16
    assert {d.code: d.zone_type for d in districts} == BEIJING_ZONES_BY_DISTRICT
    assert [d.code for d in districts] == list(BEIJING_ZONES_BY_DISTRICT)  # sort_order follows the list
    assert District.objects.get(code="110108").name == "海淀区"
    assert counts["districts_created"] == 16


def test_beijing_loads_all_349_township_level_rows(beijing):
    counts = divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    assert Subdistrict.objects.filter(district__city=beijing).count() == 349
    assert counts["subdistricts"] == counts["subdistricts_created"] == 349
    assert Subdistrict.objects.filter(district__code="110105").count() == 43  # 朝阳


def test_development_zones_and_statistical_units_are_flagged_not_dropped(beijing):
    divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    etdz = Subdistrict.objects.get(code="110115403")
    assert etdz.name == "北京经济技术开发区"
    assert etdz.is_development_zone and etdz.kind == SubdistrictKind.PARK and not etdz.is_statistical
    airport = Subdistrict.objects.get(code="110115406")
    assert airport.name == "大兴国际机场"
    assert airport.is_statistical and airport.kind == SubdistrictKind.OTHER and not airport.is_development_zone
    assert Subdistrict.objects.filter(district__city=beijing, is_development_zone=True).count() == 5
    assert Subdistrict.objects.filter(district__city=beijing, is_statistical=True).count() == 1


def test_kinds_follow_the_statistical_code_and_the_name(beijing):
    divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    kinds = dict(Subdistrict.objects.filter(district__city=beijing).values_list("code", "kind"))
    assert kinds["110101001"] == SubdistrictKind.STREET  # 东华门街道
    names = dict(Subdistrict.objects.values_list("name", "kind"))
    assert names["南磨房地区"] == SubdistrictKind.AREA
    assert all(
        kind == SubdistrictKind.AREA
        for name, kind in names.items() if name.endswith("地区")
    )
    town = Subdistrict.objects.get(code__startswith="110114", name="小汤山镇")
    assert town.kind == SubdistrictKind.TOWN
    assert Subdistrict.objects.filter(district__city=beijing, kind=SubdistrictKind.TOWNSHIP).exists()


def test_pingdingshan_central_urban_area_loads_six_districts_and_43_rows_without_zone_types(pingdingshan):
    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)

    districts = District.objects.filter(city=pingdingshan)
    assert districts.count() == 6
    assert set(districts.values_list("zone_type", flat=True)) == {""}
    assert Subdistrict.objects.filter(district__city=pingdingshan).count() == 43
    assert not District.objects.filter(code="410421").exists()  # 宝丰县 is outside the central area (P7)
    assert set(districts.filter(is_development_zone=True).values_list("code", flat=True)) == {"410471", "410472"}
    preparatory = Subdistrict.objects.get(code="410402400")  # 香山街道筹备组
    assert preparatory.is_statistical and preparatory.kind == SubdistrictKind.OTHER


def test_loading_twice_changes_nothing_and_writes_no_second_audit_row(beijing, django_assert_max_num_queries):
    divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)
    assert ActionLog.objects.filter(action="geography.divisions_load").count() == 1
    before = list(Subdistrict.objects.values_list("id", "code", "name", "kind", "district_id", "zone_type_override"))

    with django_assert_max_num_queries(8):  # bulk reads; no query per row
        counts = divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    assert counts["districts_created"] == counts["districts_updated"] == 0
    assert counts["subdistricts_created"] == counts["subdistricts_updated"] == 0
    assert list(Subdistrict.objects.values_list("id", "code", "name", "kind", "district_id", "zone_type_override")) == before
    assert ActionLog.objects.filter(action="geography.divisions_load").count() == 1


def test_first_load_writes_one_audit_row_with_the_counts(beijing):
    divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)

    (row,) = ActionLog.objects.filter(action="geography.divisions_load")
    assert row.city_code == "beijing"
    assert row.after["subdistricts_created"] == 349
    assert "349" in row.summary


def test_a_changed_zone_type_is_updated_on_reload(beijing_divisions):
    geography = {**BEIJING_GEOGRAPHY, "districts": [
        {**entry, "zone_type": "eco_conservation"} if entry["code"] == "110114" else entry
        for entry in BEIJING_GEOGRAPHY["districts"]
    ]}
    counts = divisions_load(actor=None, city=beijing_divisions, geography=geography)

    assert counts["districts_updated"] == 1
    assert District.objects.get(code="110114").zone_type == "eco_conservation"


def test_subdistrict_zone_overrides_are_applied(beijing):
    geography = {**BEIJING_GEOGRAPHY, "subdistrict_zone_overrides": {"110111110": "eco_conservation"}}
    divisions_load(actor=None, city=beijing, geography=geography)

    subdistrict = Subdistrict.objects.select_related("district").get(code="110111110")
    assert subdistrict.district.zone_type == "multi_point"
    assert subdistrict.zone_type == "eco_conservation"


def test_an_unknown_zone_type_is_refused_and_nothing_is_loaded(beijing):
    geography = {**BEIJING_GEOGRAPHY, "districts": [{"code": "110101", "zone_type": "downtown"}]}
    with pytest.raises(DomainError) as exc:
        divisions_load(actor=None, city=beijing, geography=geography)

    assert exc.value.code == "unknown_zone_type"
    assert "downtown" in exc.value.message
    assert not District.objects.exists()
    assert not ActionLog.objects.filter(action="geography.divisions_load").exists()


def test_a_district_of_another_city_is_refused(beijing):
    geography = {**BEIJING_GEOGRAPHY, "districts": [{"code": "410402", "zone_type": ""}]}
    with pytest.raises(DomainError) as exc:
        divisions_load(actor=None, city=beijing, geography=geography)

    assert exc.value.code == "district_outside_city"
    assert not District.objects.exists()


def test_an_override_for_a_subdistrict_not_loaded_is_refused(beijing):
    geography = {**BEIJING_GEOGRAPHY, "subdistrict_zone_overrides": {"410402001": "core"}}
    with pytest.raises(DomainError) as exc:
        divisions_load(actor=None, city=beijing, geography=geography)

    assert exc.value.code == "unknown_subdistrict"
    assert not Subdistrict.objects.exists()
