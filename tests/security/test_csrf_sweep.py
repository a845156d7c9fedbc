"""Issue #16 item 9: no form and no state-changing URL works without its CSRF token.

1. Every page a persona reaches from the home page (anonymous and one user of every role, following links,
   bounded): each <form method="post"> holds a csrfmiddlewaretoken field.
2. Every routed URL outside the API (django.urls.get_resolver, the login form included), POSTed without a token
   by a client that enforces the check (Client(enforce_csrf_checks=True)), anonymous and signed in: 403. A view
   marked csrf_exempt would answer something else and is reported.
3. The JSON API (django-ninja routes are csrf_exempt; rpms.core.api.auth_required = [TokenAuth(),
   SessionAuth(csrf=True)]): every unsafe operation, called with a signed-in session cookie and no token, is
   refused with 403 "csrf_failed" (config/api.py) — unless it is public (ANYONE in the role sweep's ACCESS: it takes no session, so a forged
   request gains nothing a stranger could not do)."""
from __future__ import annotations

import re
from collections import deque

import pytest
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from tests.security.sweep import Tally, fill, openapi_operations, world_ids
from tests.security.test_role_endpoint_sweep import ACCESS, ANYONE

pytestmark = pytest.mark.django_db

PAGES_PER_PERSONA = 80  # distinct URL patterns
CRAWL_SKIP = ("/admin/", "/static/", "/media/", "/api/", "/accounts/logout")
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
POST = re.compile(r"""method\s*=\s*["']?post""", re.I)
LINK = re.compile(r'href="(/[^"#]*)"')
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _route(path: str) -> str:
    """The URL pattern a path resolves to (one page per pattern is enough: the same template and form)."""
    try:
        return resolve(path).route
    except Resolver404:
        return path


def crawl(client, limit):
    """(url, html) of the pages reached from / by following links: one page per URL pattern, at most `limit`."""
    seen, queue, pages = set(), deque(["/"]), []
    while queue and len(seen) < limit:
        url = queue.popleft().replace("&amp;", "&")
        route = _route(url.split("?")[0])
        if route in seen or url.startswith(CRAWL_SKIP):
            continue
        seen.add(route)
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode("utf-8", "replace")
        pages.append((url, body))
        queue.extend(LINK.findall(body))
    return pages


def site_routes():
    """Every routed path outside the API, the admin and static files, its parameters filled (ints 1, text x):
    the CSRF check runs before the view, so no record is needed."""
    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if isinstance(pattern.pattern, RoutePattern):
                    yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern.pattern, RoutePattern):
                yield prefix + str(pattern.pattern)

    urls = set()
    for route in walk(get_resolver().url_patterns, ""):
        if route.startswith(("admin/", "api/", "static/", "media/")):
            continue
        urls.add("/" + PARAM.sub(lambda m: "1" if m.group(1) == "int" else "x", route))
    return sorted(urls)


def test_every_form_carries_its_token_and_no_post_works_without_it(world, role_callers, anon):
    tally = Tally("CSRF 巡检（CSRF sweep）")
    forms = pages = 0
    # 1. forms of the pages each persona sees
    for role, user in role_callers.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url, body in crawl(client, PAGES_PER_PERSONA):
            pages += 1
            for attributes, inner in FORM.findall(body):
                if not POST.search(attributes):
                    continue
                forms += 1
                tally.tried += 1
                if "csrfmiddlewaretoken" not in inner:
                    tally.failures.append(f"{role}: {url}: <form{attributes[:80]}> without csrfmiddlewaretoken")
    # 2. every site URL refuses a POST without the token
    routes = site_routes()
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(role_callers["city_admin"])
    for label, client in (("anonymous", Client(enforce_csrf_checks=True)), ("city_admin", signed_in)):
        for url in routes:
            tally.tried += 1
            response = client.post(url, {"x": "1"})
            if response.status_code != 403 or b"CSRF" not in response.content:  # Django's CSRF failure page
                tally.failures.append(f"{label}: POST {url} without a token → {response.status_code}")
    # 3. the API with a session cookie and no token
    ids = world_ids(world)
    api_tried = exempt = 0
    for method, path in openapi_operations(Client()):
        if method == "GET":
            continue
        if ACCESS.get(f"{method} {path}") == ANYONE:
            exempt += 1
            continue
        url, _ = fill(path, ids)
        api_tried += 1
        tally.tried += 1
        response = getattr(signed_in, method.lower())(url, data="{}", content_type="application/json")
        if response.status_code != 403 or response.json().get("code") != "csrf_failed":
            tally.failures.append(f"API {method} {path} with a session and no token → {response.status_code}")
    tally.notes = {"pages": pages, "forms": forms, "site URLs": len(routes), "API operations": api_tried,
                   "public API operations (no session)": exempt}
    message = tally.report("unprotected")
    assert forms > 20 and len(routes) > 200 and api_tried > 100, message
    assert tally.failures == [], message
