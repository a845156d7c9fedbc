"""Headers and sessions (issue #16 item 5; 等保 2.0 level 3): Content-Security-Policy without inline script,
no inline script or event handler in any page, `Cache-Control: no-store` on every answer to an authenticated
request (pages and API), Permissions-Policy, and an absolute session lifetime beside the idle timeout."""
from __future__ import annotations

import datetime as dt
import json
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client

from rpms.core.middleware import SESSION_STARTED_KEY

pytestmark = pytest.mark.django_db

# Script types that are data, not code (the browser never runs them, CSP does not apply): django-ninja's Swagger
# page hands its settings to its static script in a JSON block.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


class InlineCode(HTMLParser):
    """Collects inline <script> elements (without src, of a script type) and on*= event handler attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.links: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.handlers += [f"<{tag} {name}=…>" for name, _ in attrs if name.lower().startswith("on")]
        if tag == "script" and not values.get("src") and (values.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
            self._in_inline = True
            self.inline_scripts.append("")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        for name in ("href", "src", "action", "formaction"):
            if (values.get(name) or "").strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}=javascript:…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data):
        if self._in_inline:
            self.inline_scripts[-1] += data


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    return parser


def assert_strict_policy(response):
    found = directives(response)
    assert found["script-src"] == ["'self'"], found
    for directive, sources in found.items():
        if directive != "style-src":
            assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, (directive, sources)
    assert found["default-src"] == ["'self'"]
    assert found["object-src"] == ["'none'"]
    assert found["frame-ancestors"] == ["'none'"]
    assert found["base-uri"] == ["'self'"]
    assert found["form-action"] == ["'self'"]
    assert found["img-src"] == ["'self'", "data:"]


# --- Content-Security-Policy ---------------------------------------------------------------------------------


def test_every_kind_of_page_carries_the_policy_without_inline_script(client, login, city_admin, planner_user):
    answers = {
        "public home": client.get("/"),
        "login page": client.get("/accounts/login/"),
        "not found": client.get("/no-such-page/"),
        "staff page": login(city_admin).get("/"),
        "planner page": login(planner_user).get("/"),
        "Django admin login": client.get("/admin/login/"),
        "API docs": client.get("/api/v1/docs"),
        "API answer": client.get("/api/v1/public/datasets"),
    }
    for name, response in answers.items():
        assert response.has_header("Content-Security-Policy"), name
        assert_strict_policy(response)


def test_the_api_docs_page_works_offline_from_local_files_under_the_same_policy(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    found = inline_code(html)
    assert found.inline_scripts == [] and found.handlers == []
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui-init.js" in html
    assert "cdn." not in html and "https://" not in html  # nothing fetched from elsewhere


# A page per persona's home and what its navigation and links lead to (GET only), as the existing tests render.
PERSONAS = ["anon", "planner_user", "city_admin", "pds_admin", "district_haidian", "street_office", "auditor"]
SKIP_PREFIXES = ("/accounts/logout", "/static/", "/media/")
MAX_PAGES_PER_PERSONA = 60


def crawl(client: Client, start: str = "/") -> dict[str, InlineCode | None]:
    """url → what its HTML holds (None: not an HTML page, e.g. a redirect, a download or a 404)."""
    seen: dict[str, InlineCode | None] = {}
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES_PER_PERSONA:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            seen[url] = None
            continue
        assert_strict_policy(response)
        found = inline_code(response.content.decode())
        seen[url] = found
        for href in found.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP_PREFIXES):
                continue
            if href not in seen and not any(href.endswith(ext) for ext in (".xlsx", ".pdf", ".csv", ".json", ".zip")):
                queue.append(href)
    return seen


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_crawl_of_each_personas_pages_finds_no_inline_script_or_event_handler(request, persona):
    client = Client()
    if persona != "anon":
        client.force_login(request.getfixturevalue(persona))
    else:
        request.getfixturevalue("beijing")
        request.getfixturevalue("pingdingshan")
    pages = crawl(client)
    html_pages = [url for url, found in pages.items() if found is not None]
    offending = {url: (found.inline_scripts, found.handlers) for url, found in pages.items()
                 if found is not None and (found.inline_scripts or found.handlers)}
    print(f"{persona}: {len(html_pages)} pages crawled, {len(offending)} with inline script or handlers")
    assert len(html_pages) >= 5
    assert offending == {}


def test_the_django_admin_pages_have_no_inline_script(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root_csp", password="Root-pass-2026!x")
    client.force_login(admin)
    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{admin.pk}/change/",
                "/admin/password_change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        found = inline_code(response.content.decode())
        assert found.inline_scripts == [] and found.handlers == [], (url, found.inline_scripts, found.handlers)
        assert_strict_policy(response)


# --- Cache-Control and Permissions-Policy ------------------------------------------------------------------


def test_authenticated_pages_and_api_answers_are_not_stored(login, bearer, city_admin, planner_user):
    for name, response in {
        "staff page": login(city_admin).get("/"),
        "planner page": login(planner_user).get("/"),
        "API by token": Client().get("/api/v1/notifications", **bearer(planner_user)),
        "API by session": login(planner_user).get("/api/v1/notifications"),
        "API public endpoint asked by a logged-in user": login(planner_user).get("/api/v1/public/datasets"),
        "a redirect": login(city_admin).get("/accounts/login/"),
    }.items():
        assert response.status_code in (200, 302), (name, response.status_code)
        assert "no-store" in response["Cache-Control"], name


def test_a_token_answer_is_not_stored(client, planner_user):
    from conftest import PASSWORD

    response = client.post("/api/v1/auth/token", json.dumps({"username": planner_user.username, "password": PASSWORD}),
                           content_type="application/json")
    assert response.status_code == 200 and "token" in response.json()
    assert "no-store" in response["Cache-Control"]


def test_anonymous_public_pages_keep_their_caching(client, beijing):
    for url in ("/", "/info/", "/api/v1/public/datasets"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url


def test_permissions_policy_turns_off_what_the_system_does_not_use(client, login, planner_user):
    for response in (client.get("/"), login(planner_user).get("/"), client.get("/api/v1/public/datasets"),
                     client.get("/no-such-page/")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
            assert feature in policy


def test_the_existing_security_headers_stay(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


# --- absolute session lifetime ---------------------------------------------------------------------------


def test_an_active_session_ends_after_eight_hours_whatever_its_activity(settings, clock, login, city_admin):
    assert settings.RPMS_SESSION_ABSOLUTE_SECONDS == 8 * 3600
    assert settings.SESSION_COOKIE_AGE == 1800  # the idle timeout stays
    clock.set(dt.date(2026, 3, 2), hour=8)
    client = login(city_admin)
    assert client.session[SESSION_STARTED_KEY] == pytest.approx(clock.now.timestamp(), abs=60)
    # Active every 20 minutes (never idle for 30) for 7 h 40 min: still logged in.
    for _ in range(23):
        clock.advance(minutes=20)
        response = client.get("/")
        assert response.status_code == 200 and response.wsgi_request.user.is_authenticated
    clock.advance(minutes=21)  # 8 h 01 min after the login
    response = client.get("/pool/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/pool/")
    page = client.get(response["Location"])
    assert "您已连续登录超过 8 小时，为保障账户安全已自动退出，请重新登录。" in page.content.decode()
    assert not page.wsgi_request.user.is_authenticated
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_absolute_lifetime_is_a_setting_and_a_new_login_starts_it_again(settings, clock, login, city_admin):
    settings.RPMS_SESSION_ABSOLUTE_SECONDS = 3600
    clock.set(dt.date(2026, 3, 2), hour=8)
    client = login(city_admin)
    clock.advance(minutes=25)
    assert client.get("/").wsgi_request.user.is_authenticated
    clock.advance(minutes=25)
    assert client.get("/").wsgi_request.user.is_authenticated
    clock.advance(minutes=11)  # 61 minutes after the login
    response = client.get("/")
    assert response.status_code == 302
    assert "您已连续登录超过 1 小时" in client.get(response["Location"]).content.decode()
    again = login(city_admin)
    assert again.get("/").wsgi_request.user.is_authenticated


def test_an_api_call_on_a_session_past_its_lifetime_is_unauthenticated(clock, login, planner_user):
    clock.set(dt.date(2026, 3, 2), hour=8)
    client = login(planner_user)
    for _ in range(24):  # 8 hours of calls every 20 minutes
        assert client.get("/api/v1/notifications").status_code == 200
        clock.advance(minutes=20)
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
