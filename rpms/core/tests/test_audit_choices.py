"""The audit page's filter drop-downs (issue #15): read from the shared cache per city — no DISTINCT over the
trail per request — and made stale at once when a row brings an action or object type they lack."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.core.models import ActionLog
from rpms.core.selectors import action_log_choices

pytestmark = pytest.mark.django_db

AUDIT_URL = "/audit/"


def _direct(city_code=None):
    rows = ActionLog.objects.all() if city_code is None else ActionLog.objects.filter(city_code=city_code)
    return {
        "actions": sorted(set(rows.values_list("action", flat=True))),
        "object_types": sorted(set(rows.exclude(object_type="").values_list("object_type", flat=True))),
    }


def _page(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(AUDIT_URL)
    assert response.status_code == 200
    return response, [q["sql"].upper() for q in ctx.captured_queries]


def test_the_drop_downs_come_from_the_cache_not_a_distinct_per_request(client, auditor, make_log):
    make_log(action="a.one", object_type="x.thing")
    client.force_login(auditor)
    _page(client)
    response, queries = _page(client)
    assert not any("DISTINCT" in sql for sql in queries)
    assert response.context["choices"] == {"actions": ["a.one"], "object_types": ["x.thing"]}


def test_the_page_and_the_api_cost_the_same_queries_with_3_and_30_rows(client, auditor, make_log, bearer):
    headers = bearer(auditor)
    for i in range(3):
        make_log(object_id=str(i), action=f"a.act{i % 2}")
    client.force_login(auditor)
    _page(client)

    def counts():
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/v1/audit?limit=20", **headers).status_code == 200
        return len(_page(client)[1]), len(api)

    few = counts()
    for i in range(27):
        make_log(object_id=f"x{i}", action=f"a.act{i % 2}")
    assert counts() == few


def test_a_new_action_or_object_type_appears_in_the_drop_downs_at_once(client, auditor, global_auditor, make_log,
                                                                        beijing):
    make_log(action="a.one", object_type="x.thing", city_code=beijing.code)
    assert action_log_choices(user=auditor) == _direct(beijing.code)
    assert action_log_choices(user=global_auditor) == _direct()
    make_log(action="a.two", object_type="x.other", city_code=beijing.code)
    make_log(action="a.elsewhere", object_type="x.elsewhere", city_code="pingdingshan")
    make_log(action="a.system", object_type="", city_code="")
    mine = action_log_choices(user=auditor)
    assert mine == _direct(beijing.code)
    assert "a.two" in mine["actions"] and "x.other" in mine["object_types"] and "a.elsewhere" not in mine["actions"]
    everything = action_log_choices(user=global_auditor)
    assert everything == _direct() and {"a.two", "a.elsewhere", "a.system"} <= set(everything["actions"])
    client.force_login(auditor)
    html = client.get(AUDIT_URL).content.decode()
    assert "a.two" in html and "a.elsewhere" not in html


def test_a_known_value_does_not_make_the_cache_stale(auditor, make_log, beijing, django_assert_num_queries):
    make_log(action="a.one", object_type="x.thing", city_code=beijing.code)
    action_log_choices(user=auditor)
    make_log(action="a.one", object_type="x.thing", city_code=beijing.code)
    with django_assert_num_queries(0):
        choices = action_log_choices(user=auditor)
    assert choices == _direct(beijing.code)


def test_a_city_admin_without_a_city_gets_empty_drop_downs(db):
    from rpms.accounts.models import Role, User

    admin = User.objects.create_user(username="cityless", password="Pw-for-tests-123", role=Role.CITY_ADMIN)
    assert action_log_choices(user=admin) == {"actions": [], "object_types": []}
