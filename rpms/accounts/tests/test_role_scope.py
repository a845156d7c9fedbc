"""accounts.scoping.role_scope_q / scope_queryset: the role switch every selector used to write, once.
Per role on real reference data (Beijing's districts and responsibility units), and deny by default."""
import pytest
from django.db.models import Q

from rpms.accounts.models import Role, User
from rpms.accounts.scoping import role_scope_q, scope_queryset
from rpms.geography.models import District, ResponsibilityUnit

pytestmark = pytest.mark.django_db


def _districts(user, **paths):
    return set(scope_queryset(District.objects.all(), user, **paths).values_list("pk", flat=True))


def test_city_admin_sees_own_city_only(city_admin, beijing, pingdingshan):
    seen = _districts(city_admin, district="pk")
    assert seen == set(District.objects.filter(city=beijing).values_list("pk", flat=True))
    assert not seen & set(District.objects.filter(city=pingdingshan).values_list("pk", flat=True))


def test_district_officer_sees_own_districts(district_haidian, haidian):
    assert _districts(district_haidian, district="pk") == {haidian.pk}


def test_street_office_sees_units_of_its_subdistricts(street_office):
    units = scope_queryset(ResponsibilityUnit.objects.all(), street_office, unit="pk")
    own = street_office.subdistricts.get()
    assert list(units) and all(u.memberships.filter(subdistrict=own, left_at__isnull=True).exists() for u in units)
    assert units.count() < ResponsibilityUnit.objects.count()


def test_planner_sees_own_records(planner_user):
    assert role_scope_q(planner_user, planner="planner") == Q(planner__user=planner_user)


def test_auditor_without_city_sees_everything_with_city_its_city(auditor, beijing):
    assert role_scope_q(auditor, district="district") is None
    assert role_scope_q(auditor, district="district", everything=Q()) == Q()
    auditor.city = beijing
    assert _districts(auditor) == set(District.objects.filter(city=beijing).values_list("pk", flat=True))


def test_superuser_sees_everything(beijing):
    root = User.objects.create_superuser(username="t_root", password="x-Passw0rd!")
    assert role_scope_q(root) is None


def test_signed_out_and_unknown_roles_are_denied(anon, beijing, district_haidian):
    from django.contrib.auth.models import AnonymousUser

    assert not _districts(AnonymousUser(), district="pk")
    stranger = User.objects.create_user(username="t_stranger", password="x-Passw0rd!", role="", city=beijing)
    assert not _districts(stranger, district="pk", planner="planner")
    stranger.role = "mystery"
    assert role_scope_q(stranger, district="pk") == Q(pk__in=[])
    # A role the caller gives no path for is denied too (a district officer where there is no district).
    assert not _districts(district_haidian)
    # Callers whose convention is "None: nothing" get their own value.
    assert role_scope_q(AnonymousUser(), nothing=None) is None
    assert role_scope_q(stranger, nothing=None) is None


def test_rules_replace_a_roles_rule(district_haidian, planner_user):
    assert role_scope_q(planner_user, planner="planner",
                        rules={Role.PLANNER: lambda u: Q(author=u)}) == Q(author=planner_user)
    assert role_scope_q(district_haidian, rules={"": lambda u: Q(requested_by=u)}) == Q(pk__in=[])
