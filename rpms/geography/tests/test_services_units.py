import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.geography.models import ResponsibilityUnit, Subdistrict, UnitMembership
from rpms.geography.selectors import unit_history
from rpms.geography.services import unit_merge, unit_rename, unit_split, units_create_default

from .helpers import subdistricts_of


def _active_unit_of(subdistrict):
    return UnitMembership.objects.get(subdistrict=subdistrict, left_at__isnull=True).unit


def _state():
    """Everything a unit operation may change."""
    return (
        sorted(ResponsibilityUnit.objects.values_list("id", "name", "dissolved_at")),
        sorted(UnitMembership.objects.values_list("id", "unit_id", "subdistrict_id", "left_at")),
    )


def test_default_units_are_one_per_subdistrict_named_after_it(beijing_divisions):
    created = units_create_default(actor=None, city=beijing_divisions)

    assert created == 349
    assert ResponsibilityUnit.objects.filter(city=beijing_divisions, dissolved_at__isnull=True).count() == 349
    for subdistrict in Subdistrict.objects.filter(code__in=["110108001", "110115403"]):
        unit = _active_unit_of(subdistrict)
        assert unit.name == subdistrict.name
        assert unit.district_id == subdistrict.district_id
    assert ActionLog.objects.filter(action="geography.units_create_default").count() == 1


def test_creating_default_units_twice_creates_none_the_second_time(beijing_units):
    assert units_create_default(actor=None, city=beijing_units) == 0

    assert ResponsibilityUnit.objects.count() == 349
    assert UnitMembership.objects.count() == 349
    assert ActionLog.objects.filter(action="geography.units_create_default").count() == 1


def test_default_units_skip_subdistricts_already_in_a_unit(beijing_divisions, haidian, city_admin):
    a, b = subdistricts_of(haidian, 2)
    unit_merge(actor=city_admin, subdistricts=[a, b], name="海淀甲乙单元")

    assert units_create_default(actor=None, city=beijing_divisions) == 347
    assert _active_unit_of(a).name == "海淀甲乙单元"


def test_merge_forms_one_unit_dissolves_emptied_units_and_writes_one_audit_row(beijing_units, haidian, city_admin):
    a, b, c = subdistricts_of(haidian, 3)
    old_units = [_active_unit_of(s) for s in (a, b, c)]
    rows_before = ActionLog.objects.count()

    unit = unit_merge(actor=city_admin, subdistricts=[a, b, c], name="学院路片区")

    assert unit.name == "学院路片区" and unit.district == haidian and unit.is_active
    assert sorted(s.code for s in unit.current_subdistricts) == sorted([a.code, b.code, c.code])
    for old in old_units:
        old.refresh_from_db()
        assert old.dissolved_at is not None
        assert not UnitMembership.objects.filter(unit=old, left_at__isnull=True).exists()
    assert ActionLog.objects.count() == rows_before + 1
    (row,) = ActionLog.objects.filter(action="geography.unit_merge")
    assert row.article == "B4"
    assert row.object_id == str(unit.pk)
    assert row.actor_id == city_admin.pk
    assert sorted(u["id"] for u in row.before["units"]) == sorted(u.pk for u in old_units)
    assert row.after["dissolved_unit_ids"] == sorted(u.pk for u in old_units)
    assert row.after["unit"]["subdistricts"] == sorted([a.code, b.code, c.code])


def test_merge_keeps_a_unit_that_still_has_other_subdistricts(beijing_units, haidian, city_admin):
    a, b, c, d = subdistricts_of(haidian, 4)
    first = unit_merge(actor=city_admin, subdistricts=[a, b, c], name="甲乙丙")

    second = unit_merge(actor=city_admin, subdistricts=[c, d], name="丙丁")

    first.refresh_from_db()
    assert first.is_active
    assert [s.code for s in first.current_subdistricts] == [a.code, b.code]
    assert [s.code for s in second.current_subdistricts] == [c.code, d.code]


def test_merge_across_two_districts_is_refused_and_leaves_nothing(beijing_units, haidian, chaoyang, city_admin):
    state, rows = _state(), ActionLog.objects.count()

    with pytest.raises(DomainError) as exc:
        unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 1) + subdistricts_of(chaoyang, 1), name="跨区")

    assert exc.value.code == "mixed_districts" and exc.value.status == 400
    assert "同一个区" in exc.value.message
    assert _state() == state
    assert ActionLog.objects.count() == rows


def test_merge_needs_at_least_two_subdistricts(beijing_units, haidian, city_admin):
    with pytest.raises(DomainError) as exc:
        unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 1), name="单个")
    assert exc.value.code == "too_few_subdistricts"


def test_merge_without_a_name_is_refused_and_leaves_nothing(beijing_units, haidian, city_admin):
    state = _state()
    with pytest.raises(DomainError) as exc:
        unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 2), name="  ")
    assert exc.value.code == "name_required"
    assert _state() == state


def test_merging_the_subdistricts_of_one_unit_again_is_refused(beijing_units, haidian, city_admin):
    pair = subdistricts_of(haidian, 2)
    unit_merge(actor=city_admin, subdistricts=pair, name="甲乙")
    with pytest.raises(DomainError) as exc:
        unit_merge(actor=city_admin, subdistricts=pair, name="甲乙二")
    assert exc.value.code == "already_one_unit"


def test_a_district_officer_merges_in_their_own_district(beijing_units, haidian, haidian_officer):
    unit = unit_merge(actor=haidian_officer, subdistricts=subdistricts_of(haidian, 2), name="海淀单元")
    assert unit.district == haidian


def test_a_district_officer_of_another_district_gets_not_found(beijing_units, chaoyang, haidian_officer):
    state = _state()
    with pytest.raises(NotFound):
        unit_merge(actor=haidian_officer, subdistricts=subdistricts_of(chaoyang, 2), name="朝阳单元")
    assert _state() == state


def test_a_planner_may_not_merge(beijing_units, haidian, planner_user):
    with pytest.raises(Forbidden):
        unit_merge(actor=planner_user, subdistricts=subdistricts_of(haidian, 2), name="规划师不能合并")


def test_an_auditor_may_not_merge(beijing_units, haidian, auditor):
    with pytest.raises(Forbidden):
        unit_merge(actor=auditor, subdistricts=subdistricts_of(haidian, 2), name="审计员不能合并")


def test_split_by_default_gives_one_unit_per_subdistrict_and_one_audit_row(beijing_units, haidian, city_admin):
    trio = subdistricts_of(haidian, 3)
    unit = unit_merge(actor=city_admin, subdistricts=trio, name="三合一")
    rows_before = ActionLog.objects.count()

    created = unit_split(actor=city_admin, unit=unit)

    unit.refresh_from_db()
    assert unit.dissolved_at is not None
    assert sorted(u.name for u in created) == sorted(s.name for s in trio)
    assert all(_active_unit_of(s) in created for s in trio)
    assert ActionLog.objects.count() == rows_before + 1
    (row,) = ActionLog.objects.filter(action="geography.unit_split")
    assert row.article == "B4" and row.object_id == str(unit.pk)
    assert sorted(row.before["unit"]["subdistricts"]) == sorted(s.code for s in trio)
    assert len(row.after["units"]) == 3


def test_split_into_given_groups(beijing_units, haidian, city_admin):
    a, b, c = subdistricts_of(haidian, 3)
    unit = unit_merge(actor=city_admin, subdistricts=[a, b, c], name="三合一")

    created = unit_split(actor=city_admin, unit=unit, groups=[[a, b], [c]])

    assert len(created) == 2
    assert _active_unit_of(a) == _active_unit_of(b) != _active_unit_of(c)
    assert _active_unit_of(a).name == f"{a.name}、{b.name}"


def test_split_groups_must_hold_exactly_the_units_subdistricts(beijing_units, haidian, city_admin):
    a, b, c, d = subdistricts_of(haidian, 4)
    unit = unit_merge(actor=city_admin, subdistricts=[a, b, c], name="三合一")
    state, rows = _state(), ActionLog.objects.count()

    with pytest.raises(DomainError) as missing:
        unit_split(actor=city_admin, unit=unit, groups=[[a], [b]])
    with pytest.raises(DomainError) as foreign:
        unit_split(actor=city_admin, unit=unit, groups=[[a, b], [c, d]])
    with pytest.raises(DomainError) as twice:
        unit_split(actor=city_admin, unit=unit, groups=[[a, b], [b, c]])

    assert missing.value.code == foreign.value.code == "groups_mismatch"
    assert twice.value.code == "overlapping_groups"
    assert _state() == state and ActionLog.objects.count() == rows


def test_a_single_subdistrict_unit_cannot_be_split(beijing_units, haidian, city_admin):
    unit = _active_unit_of(subdistricts_of(haidian, 1)[0])
    with pytest.raises(DomainError) as exc:
        unit_split(actor=city_admin, unit=unit)
    assert exc.value.code == "nothing_to_split"


def test_a_dissolved_unit_cannot_be_split_again(beijing_units, haidian, city_admin):
    unit = unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 2), name="甲乙")
    unit_split(actor=city_admin, unit=unit)
    with pytest.raises(DomainError) as exc:
        unit_split(actor=city_admin, unit=unit)
    assert exc.value.status == 409


def test_an_officer_of_another_district_cannot_split(beijing_units, haidian, city_admin, chaoyang_officer):
    unit = unit_merge(actor=city_admin, subdistricts=subdistricts_of(haidian, 2), name="甲乙")
    with pytest.raises(NotFound):
        unit_split(actor=chaoyang_officer, unit=unit)
    unit.refresh_from_db()
    assert unit.is_active


def test_rename_is_audited(beijing_units, haidian, haidian_officer):
    unit = _active_unit_of(subdistricts_of(haidian, 1)[0])
    old = unit.name

    unit_rename(actor=haidian_officer, unit=unit, name="  新名称  ")

    unit.refresh_from_db()
    assert unit.name == "新名称"
    (row,) = ActionLog.objects.filter(action="geography.unit_rename")
    assert row.before == {"name": old} and row.after["name"] == "新名称"


def test_unit_history_follows_the_unit_through_merge_and_split(beijing_units, haidian, city_admin):
    a, b = subdistricts_of(haidian, 2)
    original = _active_unit_of(a)
    merged = unit_merge(actor=city_admin, subdistricts=[a, b], name="甲乙")
    unit_rename(actor=city_admin, unit=merged, name="甲乙片区")
    unit_split(actor=city_admin, unit=merged)
    successor = _active_unit_of(a)

    assert [r.action for r in unit_history(merged)] == [
        "geography.unit_merge", "geography.unit_rename", "geography.unit_split"
    ]
    assert [r.action for r in unit_history(original)] == ["geography.units_create_default", "geography.unit_merge"]
    assert [r.action for r in unit_history(successor)] == ["geography.unit_split"]


def test_the_database_refuses_a_second_open_membership_of_a_subdistrict(beijing_units, haidian):
    subdistrict = subdistricts_of(haidian, 1)[0]
    other = ResponsibilityUnit.objects.create(city=haidian.city, district=haidian, name="另一个单元")

    with pytest.raises(IntegrityError), transaction.atomic():
        UnitMembership.objects.create(unit=other, subdistrict=subdistrict, joined_at=timezone.now())

    # A closed membership next to the open one is fine: that is the history.
    UnitMembership.objects.create(unit=other, subdistrict=subdistrict, joined_at=timezone.now(), left_at=timezone.now())
    assert UnitMembership.objects.filter(subdistrict=subdistrict, left_at__isnull=True).count() == 1


def test_a_city_cites_its_own_coverage_article_when_creating_units(pingdingshan, city_admin):
    """Issue #12 item 7: Pingdingshan's unit acts cite its own article, never Beijing's B4."""
    from rpms.geography.services import divisions_load

    from .helpers import PINGDINGSHAN_GEOGRAPHY

    divisions_load(actor=None, city=pingdingshan, geography=PINGDINGSHAN_GEOGRAPHY)
    units_create_default(actor=None, city=pingdingshan)
    row = ActionLog.objects.filter(action="geography.units_create_default").latest("id")
    assert row.article == "P6(2)"
