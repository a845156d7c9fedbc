import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog
from rpms.geography.models import District, ResponsibilityUnit, Subdistrict
from rpms.registry.models import Planner

pytestmark = pytest.mark.django_db

ACCOUNTS = {
    "city_admin": Role.CITY_ADMIN, "pds_admin": Role.CITY_ADMIN, "district_haidian": Role.DISTRICT_OFFICER,
    "district_chaoyang": Role.DISTRICT_OFFICER, "street_demo": Role.HIRING_ENTITY, "planner_demo": Role.PLANNER,
    "auditor": Role.AUDITOR,
}


def test_seed_demo_creates_both_cities_accounts_and_fictional_planners_once():
    call_command("seed_demo")
    counts = (District.objects.count(), Subdistrict.objects.count(), ResponsibilityUnit.objects.count(),
              Planner.objects.count(), User.objects.count(), ActionLog.objects.count())
    assert District.objects.filter(city__code="beijing").count() == 16
    assert Subdistrict.objects.filter(district__city__code="beijing").count() == 349
    assert Subdistrict.objects.filter(district__city__code="pingdingshan").count() == 43
    for username, role in ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password("Rpms-demo-2026")
    assert list(User.objects.get(username="district_haidian").districts.values_list("name", flat=True)) == ["海淀区"]
    assert 45 <= Planner.objects.count() <= 55
    assert all(p.is_fictional and "虚构" in p.name and not p.id_number and not p.mobile for p in Planner.objects.all())
    assert Planner.objects.filter(user__username="planner_demo").count() == 1
    call_command("seed_demo")  # idempotent: nothing new, no new audit rows
    assert counts == (District.objects.count(), Subdistrict.objects.count(), ResponsibilityUnit.objects.count(),
                      Planner.objects.count(), User.objects.count(), ActionLog.objects.count())


@override_settings(SETTINGS_MODULE="config.settings.production")
def test_seed_demo_refuses_under_production_settings():
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_demo")
    assert not User.objects.filter(username="city_admin").exists()
