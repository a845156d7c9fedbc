import pytest

from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.geography.models import Subdistrict
from rpms.geography.services import subdistrict_zone_type_set

from .helpers import make_user


@pytest.fixture
def mountain_town(beijing_divisions):
    return Subdistrict.objects.select_related("district").get(code="110111110")  # 房山 张坊镇


def test_a_city_administrator_sets_a_subdistrict_zone_type_with_an_audit_row(mountain_town, city_admin):
    assert mountain_town.zone_type == "multi_point"

    subdistrict_zone_type_set(actor=city_admin, subdistrict=mountain_town, zone_type="eco_conservation")

    mountain_town.refresh_from_db()
    assert mountain_town.zone_type_override == "eco_conservation"
    assert mountain_town.zone_type == "eco_conservation"
    (row,) = ActionLog.objects.filter(action="geography.subdistrict_zone_type_set")
    assert row.article == "B13" and row.city_code == "beijing"
    assert row.before == {"zone_type_override": "", "zone_type": "multi_point"}
    assert row.after["zone_type"] == "eco_conservation"


def test_clearing_the_override_falls_back_to_the_district_zone_type(mountain_town, city_admin):
    subdistrict_zone_type_set(actor=city_admin, subdistrict=mountain_town, zone_type="eco_conservation")
    subdistrict_zone_type_set(actor=city_admin, subdistrict=mountain_town, zone_type="")

    mountain_town.refresh_from_db()
    assert mountain_town.zone_type_override == ""
    assert mountain_town.zone_type == "multi_point"
    assert ActionLog.objects.filter(action="geography.subdistrict_zone_type_set").count() == 2


def test_an_unknown_zone_type_is_refused_in_chinese(mountain_town, city_admin):
    with pytest.raises(DomainError) as exc:
        subdistrict_zone_type_set(actor=city_admin, subdistrict=mountain_town, zone_type="mountain")

    assert exc.value.status == 400 and exc.value.code == "unknown_zone_type"
    assert "功能区类型" in exc.value.message and "eco_conservation（生态涵养区）" in exc.value.message
    mountain_town.refresh_from_db()
    assert mountain_town.zone_type_override == ""
    assert not ActionLog.objects.filter(action="geography.subdistrict_zone_type_set").exists()


def test_a_district_officer_may_not_set_zone_types(mountain_town, beijing):
    officer = make_user("fangshan_officer", "district_officer", beijing, [mountain_town.district])
    with pytest.raises(Forbidden):
        subdistrict_zone_type_set(actor=officer, subdistrict=mountain_town, zone_type="eco_conservation")


def test_an_administrator_of_another_city_gets_not_found(mountain_town, pingdingshan):
    other_admin = make_user("pds_admin", "city_admin", pingdingshan)
    with pytest.raises(NotFound):
        subdistrict_zone_type_set(actor=other_admin, subdistrict=mountain_town, zone_type="eco_conservation")


def test_a_city_without_zone_types_accepts_none(pingdingshan):
    from rpms.geography.services import divisions_load

    from .helpers import PINGDINGSHAN_GEOGRAPHY

    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)
    admin = make_user("pds_admin", "city_admin", pingdingshan)
    street = Subdistrict.objects.get(code="410402001")
    with pytest.raises(DomainError) as exc:
        subdistrict_zone_type_set(actor=admin, subdistrict=street, zone_type="core")
    assert exc.value.code == "unknown_zone_type"
