"""Dispatch requests (P6(1)): a district asks for its own units only; the city administrator accepts
or returns with a reason; every act audited with the city's own article; conflict declarations."""
import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.dispatch.models import ConflictDeclaration, DispatchRequest, RequestStatus
from rpms.dispatch.services import (
    conflict_declare,
    conflict_withdraw,
    dispatch_request_accept,
    dispatch_request_return,
    dispatch_request_submit,
    dispatch_request_withdraw,
)

from .conftest import ROLE, make_member, units_of

pytestmark = pytest.mark.django_db


def submit(officer_user, district, units, **kwargs):
    values = {"role": ROLE, "specialties": ["urban_rural_planning"], "slots_per_unit": 2, "service_focus": "老旧小区更新"}
    values.update(kwargs)
    return dispatch_request_submit(actor=officer_user, city=district.city, district=district, units=units, **values)


def test_a_district_officer_submits_a_request_for_its_own_units(district_haidian, haidian):
    units = units_of(haidian, 2)
    request = submit(district_haidian, haidian, units)
    assert request.status == RequestStatus.SUBMITTED
    assert sorted(u.pk for u in request.units.all()) == sorted(u.pk for u in units)
    assert request.specialties == ["urban_rural_planning"] and request.slots_per_unit == 2
    row = ActionLog.objects.get(action="dispatch.request_submit")
    assert row.article == "B19(5)" and row.city_code == "beijing" and row.object_id == str(request.pk)


def test_pingdingshan_requests_cite_its_own_article(district_xinhua, xinhua):
    request = submit(district_xinhua, xinhua, units_of(xinhua, 1))
    assert ActionLog.objects.get(action="dispatch.request_submit", object_id=str(request.pk)).article == "P6(1)"


def test_a_district_officer_cannot_request_for_another_district(district_haidian, chaoyang):
    with pytest.raises(NotFound) as refused:  # outside the officer's scope: 404 (#14)
        submit(district_haidian, chaoyang, units_of(chaoyang, 1))
    assert "本区" in refused.value.message
    assert not DispatchRequest.objects.exists() and not ActionLog.objects.filter(action="dispatch.request_submit").exists()


def test_units_of_another_district_are_refused_by_name(district_haidian, haidian, chaoyang):
    foreign = units_of(chaoyang, 1)[0]
    with pytest.raises(NotFound) as refused:  # outside the officer's scope: 404 (#14)
        submit(district_haidian, haidian, units_of(haidian, 1) + [foreign])
    assert foreign.name in refused.value.message and refused.value.code == "unit_not_in_district"
    assert not DispatchRequest.objects.exists()


def test_other_roles_cannot_submit(city_admin, planner_user, haidian):
    for user in (city_admin, planner_user):
        with pytest.raises(Forbidden):
            submit(user, haidian, units_of(haidian, 1))


@pytest.mark.parametrize("field, value, code", [
    ("role", "chief_engineer", "unknown_role"),
    ("specialties", ["astrology"], "unknown_specialty"),
    ("slots_per_unit", 4, "invalid_slots"),
    ("slots_per_unit", 0, "invalid_slots"),
    ("slots_per_unit", "两", "invalid_slots"),
])
def test_invalid_requests_are_refused_in_chinese(district_haidian, haidian, field, value, code):
    with pytest.raises(DomainError) as refused:
        submit(district_haidian, haidian, units_of(haidian, 1), **{field: value})
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert not DispatchRequest.objects.exists()


def test_a_request_needs_units(district_haidian, haidian):
    with pytest.raises(DomainError) as refused:
        submit(district_haidian, haidian, [])
    assert refused.value.code == "no_units"


def test_a_second_open_request_for_the_same_unit_and_role_is_refused(district_haidian, haidian):
    units = units_of(haidian, 2)
    submit(district_haidian, haidian, units[:1])
    with pytest.raises(Conflict) as refused:
        submit(district_haidian, haidian, units)
    assert units[0].name in refused.value.message
    assert DispatchRequest.objects.count() == 1
    # another role for the same unit is a different request (B8: several roles per unit)
    submit(district_haidian, haidian, units[:1], role="responsible_architect")
    assert DispatchRequest.objects.count() == 2


def test_the_city_administrator_accepts(district_haidian, haidian, city_admin):
    request = dispatch_request_accept(actor=city_admin, request=submit(district_haidian, haidian, units_of(haidian, 1)))
    assert request.status == RequestStatus.ACCEPTED and request.decided_by == city_admin and request.decided_at
    row = ActionLog.objects.get(action="dispatch.request_accept")
    assert row.article == "B19(5)" and row.before["status"] == "submitted" and row.after["status"] == "accepted"
    with pytest.raises(Conflict):
        dispatch_request_accept(actor=city_admin, request=request)


def test_a_return_needs_a_reason_the_district_sees(district_haidian, haidian, city_admin):
    request = submit(district_haidian, haidian, units_of(haidian, 1))
    for reason in ("", "   "):
        with pytest.raises(DomainError) as refused:
            dispatch_request_return(actor=city_admin, request=request, reason=reason)
        assert "退回理由" in refused.value.message
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    returned = dispatch_request_return(actor=city_admin, request=request, reason="服务重点不明确，请补充。")
    assert returned.status == RequestStatus.RETURNED and returned.return_reason == "服务重点不明确，请补充。"
    assert ActionLog.objects.filter(action="dispatch.request_return").count() == 1


def test_district_officers_and_other_cities_cannot_decide(district_haidian, haidian, pds_admin):
    from rpms.core.errors import NotFound

    request = submit(district_haidian, haidian, units_of(haidian, 1))
    with pytest.raises(Forbidden):
        dispatch_request_accept(actor=district_haidian, request=request)
    with pytest.raises(NotFound):
        dispatch_request_accept(actor=pds_admin, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED


def test_the_district_withdraws_its_own_request(district_haidian, district_chaoyang, haidian, city_admin, pds_admin):
    request = submit(district_haidian, haidian, units_of(haidian, 1))
    with pytest.raises(NotFound):  # another district's request: outside the officer's scope (#14)
        dispatch_request_withdraw(actor=district_chaoyang, request=request)
    with pytest.raises(NotFound):  # another city's administrator
        dispatch_request_withdraw(actor=pds_admin, request=request)
    with pytest.raises(Forbidden):  # in scope, but the city administrator's role does not withdraw
        dispatch_request_withdraw(actor=city_admin, request=request)
    withdrawn = dispatch_request_withdraw(actor=district_haidian, request=request, note="已自行选聘")
    assert withdrawn.status == RequestStatus.WITHDRAWN and withdrawn.withdrawn_at
    with pytest.raises(Conflict):
        dispatch_request_withdraw(actor=district_haidian, request=request)


# --- conflicts of interest ------------------------------------------------------------------------


def test_a_planner_declares_its_own_conflict_and_withdraws_it(beijing, haidian, planner_user):
    from rpms.registry.models import Planner

    planner = Planner.objects.get(user=planner_user)
    unit = units_of(haidian, 1)[0]
    declaration = conflict_declare(actor=planner_user, planner=planner, unit=unit, kind="employer_involved",
                                   note="本单位承担该街道控规编制")
    assert declaration.is_active
    row = ActionLog.objects.get(action="dispatch.conflict_declare")
    assert row.article == "B19(5)" and row.city_code == "beijing"
    with pytest.raises(Conflict):
        conflict_declare(actor=planner_user, planner=planner, unit=unit, kind="relation", note="重复")
    conflict_withdraw(actor=planner_user, declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.withdrawn_at is not None
    assert ActionLog.objects.filter(action="dispatch.conflict_withdraw").count() == 1


def test_who_may_record_a_conflict(beijing, haidian, chaoyang, district_haidian, district_chaoyang, street_office, city_admin):
    planner = make_member(beijing, "冲突测试")
    unit = units_of(haidian, 1)[0]
    with pytest.raises(NotFound):  # another district's unit: outside the officer's scope (#14)
        conflict_declare(actor=district_chaoyang, planner=planner, unit=unit, kind="relation", note="亲属在街道任职")
    with pytest.raises(Forbidden):  # a role that records no conflicts
        conflict_declare(actor=street_office, planner=planner, unit=unit, kind="relation", note="亲属在街道任职")
    assert conflict_declare(actor=district_haidian, planner=planner, unit=unit, kind="relation", note="亲属在街道任职")
    assert conflict_declare(actor=city_admin, planner=planner, district=chaoyang, kind="other", note="全区项目")
    assert ConflictDeclaration.objects.filter(planner=planner).count() == 2


def test_a_conflict_names_one_unit_or_one_district_and_a_note(beijing, haidian, city_admin):
    planner = make_member(beijing, "冲突测试")
    unit = units_of(haidian, 1)[0]
    with pytest.raises(DomainError):
        conflict_declare(actor=city_admin, planner=planner, unit=unit, district=haidian, kind="other", note="x")
    with pytest.raises(DomainError):
        conflict_declare(actor=city_admin, planner=planner, kind="other", note="x")
    with pytest.raises(DomainError):
        conflict_declare(actor=city_admin, planner=planner, unit=unit, kind="other", note=" ")
    with pytest.raises(DomainError):
        conflict_declare(actor=city_admin, planner=planner, unit=unit, kind="bribery", note="x")
    assert not ConflictDeclaration.objects.exists()
