"""Shared personas (CONVENTIONS.md): a city administrator, a Haidian district officer, a Chaoyang
district officer, a street office, a planner, an auditor and an anonymous resident, on the real
reference data (both cities' policies and geography), loaded on demand."""
import pytest
from django.test import Client

from rpms.accounts.models import Role

PASSWORD = "Test-pass-2026!"


@pytest.fixture(scope="session")
def _reference_snapshot(django_db_setup, django_db_blocker):
    """The reference data as the loader writes it, loaded once per session (per xdist worker): the rows
    rpms.cities.reference.reference_data_load adds to each table, captured inside a transaction that is then
    rolled back, so the test database itself stays as empty as the migrations leave it."""
    from django.apps import apps
    from django.db import connection, transaction

    from rpms.cities.reference import reference_data_load

    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    with django_db_blocker.unblock():
        with transaction.atomic(), connection.cursor() as cursor:
            before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in models}
            codes = [c.code for c in reference_data_load(actor=None)]
            snapshot = []
            for model in models:
                table, pk = connection.ops.quote_name(model._meta.db_table), model._meta.pk.column
                columns = [f.column for f in model._meta.concrete_fields]
                cursor.execute(f"SELECT {', '.join(map(connection.ops.quote_name, columns))} FROM {table} ORDER BY {connection.ops.quote_name(pk)}")
                rows = [r for r in cursor.fetchall() if r[columns.index(pk)] not in before[model]]
                if rows:
                    insert = (f"INSERT INTO {table} ({', '.join(map(connection.ops.quote_name, columns))}) "
                              f"VALUES ({', '.join(['%s'] * len(columns))})")
                    snapshot.append((model, insert, rows))
            transaction.set_rollback(True)
    return codes, snapshot


def reference_restore(snapshot) -> None:
    """Writes the captured reference rows back as they were read (one executemany per table; constraints are
    checked at the end of the block) and moves PostgreSQL's sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for _, insert, rows in snapshot:
            cursor.executemany(insert, rows)
        for sql in connection.ops.sequence_reset_sql(no_style(), [model for model, _, _ in snapshot]):
            cursor.execute(sql)


@pytest.fixture
def reference(db, _reference_snapshot):
    """Both cities as rpms.cities.reference.reference_data_load leaves them (policy, geography, default units,
    its audit rows), in this test's database: loaded once per session, written back per test in a few
    statements (issue #14: the loader cost 0.35 s and 75 queries per test)."""
    from rpms.cities.models import City

    codes, snapshot = _reference_snapshot
    if City.objects.filter(code__in=codes).exists():  # made by the test's own fixtures: the loader updates them
        from rpms.cities.reference import reference_data_load

        return {c.code: c for c in reference_data_load(actor=None)}
    reference_restore(snapshot)
    cities = City.objects.in_bulk(codes, field_name="code")
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
    from rpms.accounts.models import User

    user = User.objects.create_user(username=username, password=PASSWORD, role=role, city=city, display_name=extra.pop("display_name", username), **extra)
    if districts:
        user.districts.set(districts)
    if subdistricts:
        user.subdistricts.set(subdistricts)
    return user


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
