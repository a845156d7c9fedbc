"""Shared personas (CONVENTIONS.md): a city administrator, a Haidian district officer, a Chaoyang
district officer, a street office, a planner, an auditor and an anonymous resident, on the real
reference data (both cities' policies and geography), loaded on demand."""
import pytest
from django.test import Client

from rpms.accounts.models import Role

PASSWORD = "Test-pass-2026!"


@pytest.fixture(scope="session")
def _reference_snapshot(django_db_setup, django_db_blocker):
    """The rows rpms.geography.reference.reference_data_load writes, loaded once per session (per xdist worker) in
    a transaction rolled back at once: the test database itself stays as empty as the migrations leave it."""
    from rpms.geography.reference import reference_data_load
    from rpms.testing.snapshot import snapshot_take

    with django_db_blocker.unblock():
        return snapshot_take(lambda: [c.code for c in reference_data_load(actor=None)])


@pytest.fixture
def reference(db, _reference_snapshot):
    """Both cities as rpms.geography.reference.reference_data_load leaves them (policy, geography, default units,
    its audit rows) in this test's database: loaded once per session, written back per test in 9 statements
    (issue #14: the loader took 87 queries per test)."""
    from rpms.cities.models import City
    from rpms.testing.snapshot import snapshot_restore

    codes = _reference_snapshot.result
    if City.objects.filter(code__in=codes).exists():  # made by the test's own fixtures: the loader updates them
        from rpms.geography.reference import reference_data_load

        return {c.code: c for c in reference_data_load(actor=None)}
    snapshot_restore(_reference_snapshot)
    cities = City.objects.select_related("policy").in_bulk(codes, field_name="code")  # as the loader returns them
    return {code: cities[code] for code in codes}


@pytest.fixture
def beijing(reference):
    return reference["beijing"]


@pytest.fixture
def pingdingshan(reference):
    return reference["pingdingshan"]


@pytest.fixture
def haidian(beijing):
    return beijing.districts.get(code="110108")


@pytest.fixture
def chaoyang(beijing):
    return beijing.districts.get(code="110105")


def _user(username, role, city=None, districts=(), subdistricts=(), **extra):
    from rpms.testing.builders import user_build

    return user_build(username, role, city, districts=districts, subdistricts=subdistricts, **extra)


@pytest.fixture
def city_admin(beijing):
    return _user("t_city_admin", Role.CITY_ADMIN, beijing, display_name="北京市规划自然资源委（测试）")


@pytest.fixture
def pds_admin(pingdingshan):
    return _user("t_pds_admin", Role.CITY_ADMIN, pingdingshan, display_name="平顶山市自然资源和规划局（测试）")


@pytest.fixture
def district_haidian(beijing, haidian):
    return _user("t_district_haidian", Role.DISTRICT_OFFICER, beijing, districts=[haidian], display_name="海淀区工作专班（测试）")


@pytest.fixture
def district_chaoyang(beijing, chaoyang):
    return _user("t_district_chaoyang", Role.DISTRICT_OFFICER, beijing, districts=[chaoyang], display_name="朝阳区工作专班（测试）")


@pytest.fixture
def street_office(beijing, haidian):
    subdistrict = haidian.subdistricts.get(code="110108001")
    return _user("t_street", Role.HIRING_ENTITY, beijing, subdistricts=[subdistrict], display_name=f"{subdistrict.name}办事处（测试）")


@pytest.fixture
def planner_user(beijing):
    from rpms.registry.models import Planner

    user = _user("t_planner", Role.PLANNER, beijing, display_name="测试规划师")
    Planner.objects.create(city=beijing, name="测试规划师", user=user, employer="测试规划设计院（虚构）", is_fictional=True)
    return user


@pytest.fixture
def auditor(db):
    return _user("t_auditor", Role.AUDITOR, None, display_name="审计员（测试）")


@pytest.fixture
def system_admin(db):
    return _user("t_system_admin", Role.SYSTEM_ADMIN, None, display_name="系统管理员（测试）")


@pytest.fixture
def security_admin(db):
    return _user("t_security_admin", Role.SECURITY_ADMIN, None, display_name="安全管理员（测试）")


@pytest.fixture
def audit_admin(db):
    return _user("t_audit_admin", Role.AUDIT_ADMIN, None, display_name="审计管理员（测试）")


@pytest.fixture
def anon():
    return Client()


@pytest.fixture
def login():
    """login(user) → a Client logged in through the real login page."""

    def _login(user):
        client = Client()
        response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return _login


@pytest.fixture
def bearer():
    """bearer(user) → headers with a fresh API token for that user."""
    from rpms.accounts.services import api_token_issue

    def _bearer(user):
        raw, _ = api_token_issue(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return _bearer


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits count in the cache; every test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class SystemClock:
    """The `clock` fixture: moves the time of the whole system at once (rpms.core.clock) — every app's
    "today" and "now", Django's automatic timestamps, sessions and API tokens. Time runs on from where it
    was set. `clock.today` / `clock.now` read the (moved) clock."""

    def __init__(self):
        from rpms.core import clock

        self._clock = clock

    @property
    def today(self):
        return self._clock.today()

    @property
    def now(self):
        return self._clock.now()

    def set(self, moment, *, hour: int = 10, minute: int = 0):
        """To `moment`: a date (that day at `hour` o'clock, local time) or a datetime. Returns the moment."""
        self._clock.move_to(moment, hour=hour, minute=minute)
        return self.now

    def advance(self, *, days: int = 0, hours: int = 0, minutes: int = 0):
        """On by the given time (keeping the time of day when moving by days)."""
        import datetime as dt

        return self.set(self.now + dt.timedelta(days=days, hours=hours, minutes=minutes))


@pytest.fixture
def appoint(db):
    """appoint(actor, planner, unit, start=today, *, role=..., fee_yuan=None, **traits) → an Appointment made
    through the city's path (rpms.testing.builders.appoint, over appointment_build)."""
    from rpms.testing.builders import appoint

    return appoint


@pytest.fixture
def clock():
    """The system's clock, for the test to move (see SystemClock); back to the real time afterwards."""
    from rpms.core import clock as core_clock

    yield SystemClock()
    core_clock.restore(None)
