"""Issue #15: the 利益冲突 page is bounded — the records paged (pager, any page number answered), the unit options
of one district at a time, the planner chooser at most 50 of the pool (narrowed by ?q=), the same number of
queries whatever the number of planners, units and records."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.appointments.selectors import PICKER_LIMIT
from rpms.dispatch import views
from rpms.dispatch.models import ConflictDeclaration
from rpms.dispatch.services import conflict_declare

from .conftest import make_member, units_of

pytestmark = pytest.mark.django_db


def counted(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured.captured_queries), response


def declare(city_admin, planner, unit):
    conflict_declare(actor=city_admin, planner=planner, unit=unit, kind="relation", note="亲属在该街道工作")


def test_the_conflict_page_keeps_its_queries_and_bounds_its_choosers(beijing, haidian, chaoyang, city_admin):
    client = Client()
    client.force_login(city_admin)
    units = units_of(haidian, 12)
    declare(city_admin, make_member(beijing, "冲突甲"), units[0])
    client.get("/dispatch/conflicts/")
    few = (counted(client, "/dispatch/conflicts/")[0], counted(client, f"/dispatch/conflicts/?district={haidian.pk}")[0])
    for n in range(PICKER_LIMIT + 5):
        planner = make_member(beijing, f"冲突候选{n:03d}")
        if n < 11:
            declare(city_admin, planner, units[n + 1])
    units_of(chaoyang, 6)
    many, response = counted(client, "/dispatch/conflicts/")
    assert (many, counted(client, f"/dispatch/conflicts/?district={haidian.pk}")[0]) == few
    assert len(response.context["planners"]) == PICKER_LIMIT and response.context["more_planners"]
    assert response.context["unit_options"] == []  # no district chosen: the districts only
    html = response.content.decode()
    assert "先在上方选择区" in html and "请输入姓名查找" in html
    listed = client.get(f"/dispatch/conflicts/?district={haidian.pk}").context["unit_options"]
    assert {value for value, _ in listed} >= {f"u:{u.pk}" for u in units}
    assert all(label.startswith(haidian.name) for _, label in listed)
    found = client.get("/dispatch/conflicts/?q=冲突候选007").context["planners"]
    assert [p.name for p in found] == ["冲突候选007"]


def test_the_conflict_records_page(beijing, haidian, city_admin, monkeypatch):
    monkeypatch.setattr(views, "CONFLICT_PAGE_SIZE", 4)
    units = units_of(haidian, 10)
    for n, unit in enumerate(units):
        declare(city_admin, make_member(beijing, f"申报{n:02d}"), unit)
    client = Client()
    client.force_login(city_admin)
    first = client.get("/dispatch/conflicts/?district=" + str(haidian.pk))
    newest = list(ConflictDeclaration.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert [c.pk for c in first.context["rows"]] == newest[:4]
    assert "第 1 页，共 3 页" in first.content.decode() and f"district={haidian.pk}&amp;page=2" in first.content.decode()
    last = client.get("/dispatch/conflicts/?page=3")
    assert [c.pk for c in last.context["rows"]] == newest[8:]
    for page in ("0", "abc", "99999999999999"):
        assert client.get(f"/dispatch/conflicts/?page={page}").status_code == 200


def test_a_unit_is_declared_without_choosing_its_district_first(beijing, haidian, city_admin):
    client = Client()
    client.force_login(city_admin)
    unit = units_of(haidian, 1)[0]
    planner = make_member(beijing, "直接登记")
    response = client.post("/dispatch/conflicts/", {"planner": f"{planner.pk} {planner.name}", "target": f"u:{unit.pk}",
                                                    "kind": "relation", "note": "亲属"})
    assert response.status_code == 302
    assert ConflictDeclaration.objects.get().unit == unit
    refused = client.post("/dispatch/conflicts/", {"planner": f"{planner.pk} {planner.name}", "target": f"u:{unit.pk}",
                                                   "kind": "relation", "note": ""})
    assert refused.status_code == 400
    assert f"u:{unit.pk}" in [value for value, _ in refused.context["unit_options"]]  # the chosen unit shown again
