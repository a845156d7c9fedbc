"""Issue #13 item 2: bad input never reaches a 500.

- Every number from a request is range-checked: each query parameter and each integer path parameter of
  every API operation, sent a number no database holds (and other bad numbers), is answered with a 4xx and
  a Chinese `detail` (or a clean result); so is every site page given bad numbers in its path and query.
- Parser errors are 4xx with a Chinese message: a multipart body without a boundary, malformed JSON, text
  that is not UTF-8, too many fields (400) or too big a body (413) — on every write operation of the API
  (with DEBUG on too: ninja then answers an unhandled exception with a 500 traceback), and on the site.

The sweeps enumerate the operations from the OpenAPI document and the pages from the URL configuration,
so a new route is covered without being listed here."""
import json
import re

import pytest
from django.test import Client, override_settings

from tests.conftest import DEMO_ROLES

pytestmark = pytest.mark.django_db

HUGE = "10000000000000000001"  # > 2^63: no database integer holds it
BAD_NUMBERS = [HUGE, "-" + HUGE, "99999", "²", "1" * 5000]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
WRITE_METHODS = ("post", "put", "patch", "delete")


def _api_operations(client):
    document = client.get("/api/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", *WRITE_METHODS):
                yield path, method, operation


def _fill_path(path, overrides=None, default_int="1"):
    overrides = overrides or {}

    def value(match):
        name = match.group(1)
        if name in overrides:
            return overrides[name]
        return "beijing" if name == "code" else ("110108" if "code" in name else default_int)

    return re.sub(r"\{(\w+)\}", value, path)


def _is_public(operation):
    return operation.get("security") in (None, [])


def _problem(response, what) -> str | None:
    """What is wrong with the API's answer to bad input: a 5xx, or a 4xx that is not JSON with a Chinese
    detail (a path that no route matches — a negative number for an integer id — is Django's Chinese 404 page)."""
    if response.status_code >= 500:
        return f"{what} → {response.status_code}"
    if response.status_code >= 400 and response.status_code != 404:
        if not response.get("Content-Type", "").startswith("application/json"):
            return f"{what} → {response.status_code} {response.get('Content-Type')}: {response.content[:80]!r}"
        body = response.json()
        if not CHINESE.search(str(body.get("detail", "") if isinstance(body, dict) else "")):
            return f"{what} → {response.status_code} without a Chinese detail: {body}"
    return None


@pytest.fixture
def clients(demo_world, demo_token):
    """An anonymous client and a client with the token of the Beijing city administrator (the widest
    scope), each answering exceptions with a response, as a browser would see them."""
    return {
        "anonymous": Client(raise_request_exception=False),
        "city_admin": Client(raise_request_exception=False,
                             HTTP_AUTHORIZATION=f"Bearer {demo_token(DEMO_ROLES['city_admin'])}"),
    }


# --- every number from a request is range-checked (API) ---------------------------------------------------------


def test_bad_numbers_in_every_query_and_path_parameter_of_the_api_get_a_chinese_4xx(clients):
    checked, problems = 0, []
    for path, method, operation in _api_operations(clients["anonymous"]):
        client = clients["anonymous"] if _is_public(operation) else clients["city_admin"]
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            if where == "path" and parameter.get("schema", {}).get("type") != "integer":
                continue
            if where == "query" and method != "get":
                continue
            for bad in BAD_NUMBERS:
                if where == "path":
                    url = _fill_path(path, {name: bad})
                else:
                    url = f"{_fill_path(path)}?{name}={bad}"
                response = client.generic(method.upper(), url, data=b"{}", content_type="application/json")
                problems.append(_problem(response, f"{method.upper()} {url[:120]}"))
                checked += 1
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} answers of {checked}:\n" + "\n".join(problems)
    assert checked > 500


# The list endpoints and the page of issue #13 (a page, offset, limit or year of 10^19 gave 500), each
# answered now with a 400 naming the parameter in Chinese, or with a clean empty page.
LISTS = [
    ("/api/v1/public/units/{unit}/suggestions?page=" + HUGE, "anonymous", "invalid_page"),
    ("/api/v1/public/units/{unit}/suggestions?page_size=" + HUGE, "anonymous", "cut to the largest page"),
    ("/api/v1/cases?offset=" + HUGE, "anonymous", "invalid_page"),
    ("/api/v1/cases?limit=" + HUGE, "anonymous", "cut to the largest page"),
    ("/api/v1/public/announcements?page=" + HUGE, "anonymous", "invalid_page"),
    ("/api/v1/honours?year=" + HUGE, "anonymous", "invalid_year"),
    ("/api/v1/appointments?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/cities/beijing/pool?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/audit?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/notifications?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/suggestions?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/work-proposals?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/case-submissions?offset=" + HUGE, "city_admin", "invalid_page"),
    ("/api/v1/assessments?year=" + HUGE, "city_admin", "invalid_year"),
    ("/api/v1/duty-records?year=99999", "city_admin", "invalid_year"),
    ("/api/v1/duty-records/calendar?month=13", "city_admin", "invalid_month"),
    ("/api/v1/violations?planner=" + HUGE, "city_admin", "invalid_filter"),
    ("/api/v1/appointments/" + HUGE, "city_admin", "no such record"),
]


@pytest.mark.parametrize("url,who,code", LISTS)
def test_a_number_no_database_holds_gets_a_400_in_chinese_or_a_clean_page(clients, url, who, code):
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.filter(suggestions__isnull=False).first()
    response = clients[who].get(url.format(unit=unit.pk))
    if code == "cut to the largest page":
        assert response.status_code == 200, response.content[:300]
        return
    if code == "no such record":  # SQLite cannot even compare it (400); PostgreSQL finds nothing (404)
        assert response.status_code in (400, 404) and CHINESE.search(response.json()["detail"]), response.content[:300]
        return
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == code and CHINESE.search(body["detail"]), body


# --- every number from a request is range-checked (site) --------------------------------------------------------


def _site_patterns():
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    for route in walk(get_resolver()):
        if not route.startswith(("api/", "admin/")) and not route.startswith("^"):
            yield route


QUERY = "&".join(f"{name}={HUGE}" for name in ("page", "year", "month", "limit", "offset", "planner", "unit",
                                                "district", "department", "appointment", "call"))


def test_site_pages_answer_bad_numbers_in_path_and_query_without_a_500(demo_world):
    from rpms.accounts.models import User

    visitors = [Client(raise_request_exception=False), Client(raise_request_exception=False)]
    visitors[1].force_login(User.objects.get(username=DEMO_ROLES["city_admin"]))
    checked, problems = 0, []
    for route in _site_patterns():
        for path_number in (HUGE, "1"):
            if "<" not in route and path_number == HUGE:
                continue
            url = "/" + re.sub(r"<(\w+):(\w+)>", lambda m: path_number if m.group(1) == "int" else "beijing", route)
            for client in visitors:
                response = client.get(f"{url}?{QUERY}")
                if response.status_code >= 500:
                    problems.append(f"GET {url} ({'staff' if client is visitors[1] else 'anonymous'}) → {response.status_code}")
                checked += 1
    assert not problems, f"{len(problems)} answers of {checked}:\n" + "\n".join(problems)
    assert checked > 300


def test_the_public_suggestion_page_of_a_unit_shows_a_clean_page_for_any_page_number(demo_world):
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.filter(suggestions__isnull=False).first()
    for page in (HUGE, "-3", "²", "abc"):
        response = Client().get(f"/suggestions/units/{unit.pk}/?page={page}")
        assert response.status_code == 200, (page, response.status_code)


# --- parser errors map to 400 (API) -----------------------------------------------------------------------------

BROKEN_BODIES = {
    "multipart without boundary": ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--"),
    "malformed JSON": ("application/json", b'{"content": "\xe5\xbb\xba'),
    "JSON that is not UTF-8": ("application/json", b'{"content": "\xff\xfe\xfd"}'),
    "form that is not UTF-8": ("application/x-www-form-urlencoded", b"content=%ff%fe&category=\xff"),
}


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_write_operation_answers_a_broken_body_with_a_chinese_4xx(clients, settings, debug):
    settings.DEBUG = debug
    checked, problems = 0, []
    for path, method, operation in _api_operations(clients["anonymous"]):
        if method not in WRITE_METHODS:
            continue
        client = clients["anonymous"] if _is_public(operation) else clients["city_admin"]
        url = _fill_path(path)
        for kind, (content_type, body) in BROKEN_BODIES.items():
            response = client.generic(method.upper(), url, data=body, content_type=content_type)
            problems.append(_problem(response, f"{kind}: {method.upper()} {url}"))
            checked += 1
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} answers of {checked}:\n" + "\n".join(problems)
    assert checked > 120 * len(BROKEN_BODIES)


# The operations that read request.FILES themselves (their body is not declared as multipart in the
# document), each with the caller and record that reaches the reading.
MANUAL_UPLOADS = [
    ("/api/v1/public/units/{unit}/suggestions", "anonymous"),
    ("/api/v1/case-submissions", "planner"),
    ("/api/v1/appointments/{appointment}/signed-contract", "street_office"),
    ("/api/v1/appointments/{appointment}/terminate", "street_office"),
    ("/api/v1/cities/beijing/pool/imports", "city_admin"),
    ("/api/v1/cities/beijing/appointments/imports", "city_admin"),
]


def _multipart_operations(client):
    for path, method, operation in _api_operations(client):
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
            yield method, path


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_upload_without_a_multipart_boundary_is_a_400_in_chinese(demo_world, demo_token, settings, debug):
    from rpms.appointments.models import Appointment
    from rpms.geography.models import ResponsibilityUnit

    settings.DEBUG = debug
    declared = [(method, _fill_path(path), "city_admin") for method, path in _multipart_operations(Client())]
    unit = ResponsibilityUnit.objects.filter(suggestions__isnull=False).first()
    appointment = Appointment.objects.filter(unit__memberships__subdistrict__code="110108001").first() or Appointment.objects.first()
    manual = [("post", path.format(unit=unit.pk, appointment=appointment.pk), who) for path, who in MANUAL_UPLOADS]
    assert len(declared) >= 8
    for method, url, who in declared + manual:
        headers = {} if who == "anonymous" else {"HTTP_AUTHORIZATION": f"Bearer {demo_token(DEMO_ROLES[who])}"}
        response = Client(raise_request_exception=False).generic(
            method.upper(), url, data=b"--x\r\n\r\n--x--", content_type="multipart/form-data", **headers)
        assert response.status_code == 400, (url, who, response.status_code, response.content[:300])
        body = response.json()
        assert body["code"] == "invalid_multipart" and "boundary" in body["detail"] and CHINESE.search(body["detail"])


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_too_many_fields_is_a_400_and_too_big_a_body_a_413_in_chinese(demo_world, settings, debug):
    from rpms.geography.models import ResponsibilityUnit

    settings.DEBUG = debug
    url = f"/api/v1/public/units/{ResponsibilityUnit.objects.first().pk}/suggestions"
    client = Client(raise_request_exception=False)
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=5):
        fields = "&".join(f"f{i}=x" for i in range(10))
        response = client.post(url, data=fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json()["code"] == "too_many_fields", response.content[:300]
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        response = client.post(url, data=json.dumps({"content": "建议" * 200}), content_type="application/json")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["code"] == "request_too_large" and CHINESE.search(response.json()["detail"])


# --- parser errors map to 400 (site) ----------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_form_post_without_a_multipart_boundary_gets_a_chinese_400_page(demo_world, settings, debug):
    from rpms.geography.models import ResponsibilityUnit

    settings.DEBUG = debug
    unit = ResponsibilityUnit.objects.filter(suggestions__isnull=False).first()
    response = Client(raise_request_exception=False).generic(
        "POST", f"/suggestions/units/{unit.pk}/new/", data=b"--x\r\n\r\n--x--", content_type="multipart/form-data")
    assert response.status_code == 400
    if not debug:  # DEBUG shows Django's technical page, with the 400 status
        assert "boundary" in response.content.decode() and "请求" in response.content.decode()


def test_a_form_over_the_field_limit_gets_a_chinese_400_page(demo_world, settings):
    from rpms.geography.models import ResponsibilityUnit

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    unit = ResponsibilityUnit.objects.filter(suggestions__isnull=False).first()
    response = Client(raise_request_exception=False).post(
        f"/suggestions/units/{unit.pk}/new/", data="&".join(f"f{i}=x" for i in range(10)),
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "表单字段过多" in response.content.decode()
