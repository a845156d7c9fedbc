import pytest

from rpms.core.errors import NotFound
from rpms.geography.models import ResponsibilityUnit, Subdistrict
from rpms.geography.selectors import (
    coverage_summary,
    covered_unit_ids,
    district_list,
    subdistrict_search,
    unit_get_for_management,
    unit_list,
)
from rpms.geography.services import divisions_load, unit_merge, units_create_default

from .helpers import HAIDIAN, PINGDINGSHAN_GEOGRAPHY, make_user, subdistricts_of


def test_district_list_is_in_configured_order_with_counts(beijing_units):
    districts = district_list(beijing_units)
    assert districts[0].code == "110101" and districts[0].name == "东城区"
    haidian = next(d for d in districts if d.code == HAIDIAN)
    assert haidian.subdistrict_count == 29 and haidian.active_unit_count == 29


def test_unit_list_of_one_district_carries_its_subdistricts(beijing_units, haidian, city_admin):
    merged = unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 2), name="合并单元")

    units = unit_list(city=beijing_units, district_code=HAIDIAN)

    assert len(units) == 28
    assert {u.district.code for u in units} == {HAIDIAN}
    found = next(u for u in units if u.pk == merged.pk)
    assert [s.code for s in found.current_subdistricts] == [s.code for s in subdistricts_of(haidian, 2)]


def test_unit_list_refuses_an_unknown_district(beijing_units):
    with pytest.raises(NotFound) as exc:
        unit_list(city=beijing_units, district_code="999999")
    assert "999999" in exc.value.message


def test_unit_list_and_coverage_query_counts_do_not_grow_with_rows(
    beijing_units, pingdingshan, django_assert_max_num_queries
):
    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)
    units_create_default(actor=None, city=pingdingshan)

    for city, expected in ((pingdingshan, 43), (beijing_units, 349)):
        with django_assert_max_num_queries(2):
            units = unit_list(city=city)
            names = [s.name for unit in units for s in unit.current_subdistricts] + [u.district.code for u in units]
        assert len(units) == expected and len(names) == 2 * expected
        # units, their memberships, and the covered unit ids (one query over the appointments)
        with django_assert_max_num_queries(3):
            summary = coverage_summary(city)
            [u.district.code for u in summary["uncovered"]]
        assert summary["units"] == expected


def test_coverage_counts_every_active_unit_as_uncovered_until_appointments_exist(beijing_units, haidian, city_admin):
    unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 3), name="三合一")

    summary = coverage_summary(beijing_units)

    assert covered_unit_ids(beijing_units) == set()
    assert summary["units"] == 347 and summary["covered"] == 0
    assert len(summary["uncovered"]) == 347
    assert ResponsibilityUnit.objects.filter(dissolved_at__isnull=False).count() == 3


def test_coverage_counts_covered_units_from_the_appointment_hook(beijing_units, monkeypatch):
    unit = unit_list(city=beijing_units, district_code=HAIDIAN)[0]
    monkeypatch.setattr("rpms.geography.selectors.covered_unit_ids", lambda city: {unit.pk})

    summary = coverage_summary(beijing_units)

    assert summary["covered"] == 1 and summary["units"] == 349
    assert unit not in summary["uncovered"] and len(summary["uncovered"]) == 348


def test_management_get_is_scoped_to_the_officers_district(beijing_units, haidian, chaoyang, haidian_officer, auditor):
    haidian_unit = unit_list(city=beijing_units, district_code=HAIDIAN)[0]
    chaoyang_unit = unit_list(city=beijing_units, district_code=chaoyang.code)[0]

    assert unit_get_for_management(user=haidian_officer, pk=haidian_unit.pk) == haidian_unit
    with pytest.raises(NotFound):
        unit_get_for_management(user=haidian_officer, pk=chaoyang_unit.pk)
    assert unit_get_for_management(user=auditor, pk=chaoyang_unit.pk) == chaoyang_unit
    with pytest.raises(NotFound):
        unit_get_for_management(user=haidian_officer, pk=10**9)


def test_management_get_is_refused_to_a_hiring_entity_of_the_district(beijing_units, haidian):
    street = subdistricts_of(haidian, 1)[0]
    entity = make_user("street_office", "hiring_entity", beijing_units)
    entity.subdistricts.set([street])
    unit = unit_list(city=beijing_units, district_code=HAIDIAN)[0]
    with pytest.raises(NotFound):
        unit_get_for_management(user=entity, pk=unit.pk)


def test_subdistrict_search_finds_partial_names_with_their_current_unit(
    beijing_units, haidian, city_admin, django_assert_max_num_queries
):
    street = Subdistrict.objects.get(code="110108010")
    merged = unit_merge(actor=city_admin, subdistricts=[street, subdistricts_of(haidian, 1)[0]], name="搜索单元")

    with django_assert_max_num_queries(2):
        found = subdistrict_search(q=street.name[:3], city=beijing_units)
        units = [s.current_unit for s in found]
    assert street in found
    assert units[found.index(street)] == merged
    assert subdistrict_search(q="  ") == []
    assert len(subdistrict_search(q="街道", limit=5)) == 5
    assert len(subdistrict_search(q="街道", limit=1000)) == 50
