"""Issue #17 items 2 and 3: every demo role crawls every link of every page it can reach (tests/crawl.py) and
(a) finds no answer 4xx or 5xx, (b) finds no code — a snake_case key or a bare English value of the system's
choices, city codes and rule codes — in the visible text of any page.

One crawl per role serves both tests: it is kept for the session of the worker (the demo world is the same
snapshot in every test), so that each role is crawled once whichever test asks first. Each crawl prints its
number of pages and its time (pytest -s)."""
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.conftest import DEMO_ROLES
from tests.crawl import CrawlResult, crawl, forms_on, visible_text

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "Rpms-demo-2026"
NEW_APPLICANT = "applicant_new"
ROLES = {
    **DEMO_ROLES,
    "system_admin": "system_admin",
    "security_admin": "security_admin",
    "audit_admin": "audit_admin",
    # A planner who has registered (/accounts/register/) but has no registry record yet.
    "new_applicant": NEW_APPLICANT,
}
# The role's own home, besides "/" (the home of every role): the pages a role opens first.
HOMES = {
    "system_admin": ["/accounts/manage/"],
    "security_admin": ["/accounts/manage/"],
    "audit_admin": ["/audit/"],
    "anonymous": ["/recruitment/", "/info/"],
}
# The largest crawl (the Beijing city administrator, ~575 URLs) takes about 30 s on a quiet 2-core machine (printed
# with -s). No timed assertion (speed lives in bench/): a crawl that explodes (a link that multiplies pages) is
# caught by the crawler's URL limit (result.truncated).

_CRAWLS = {}  # role → its RoleCrawl


def _new_applicant():
    """A planner account made the way /accounts/register/ makes one, with no registry record."""
    from rpms.accounts.models import User
    from rpms.accounts.services import planner_account_register

    user = User.objects.filter(username=NEW_APPLICANT).first()
    if user is None:
        user = planner_account_register(username=NEW_APPLICANT, password=DEMO_PASSWORD, display_name="新申请人（演示）",
                                        email="applicant_new@example.invalid", mobile="13800000017", city="pingdingshan")
    from rpms.registry.models import Planner

    assert not Planner.objects.filter(user=user).exists()
    return user


def _client_of(role):
    from django.test import Client

    client = Client()
    username = ROLES[role]
    if username is None:
        return client
    if role == "new_applicant":
        _new_applicant()
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


@dataclass
class RoleCrawl:
    result: CrawlResult  # the pages, their HTML dropped once read (the cache stays small)
    html_pages: int
    codes: dict  # url → the codes shown on that page (page_codes)


def crawl_of(role, request) -> RoleCrawl:
    """The crawl of `role` on the demo world (one per role and worker session), read for both tests."""
    if role not in _CRAWLS:
        from rpms.accounts.models import User

        request.getfixturevalue("demo_world")
        client = _client_of(role)
        result = crawl(client, ["/"] + HOMES.get(role, []))
        codes, usernames = known_codes(), set(User.objects.values_list("username", flat=True))
        assert {"beijing", "pingdingshan"} <= codes
        html = result.html_pages
        shown = {page.url: page_codes(page, codes, usernames) for page in html}
        for page in html:
            page.content = ""
        print(f"\n{role}: {len(result)} URLs fetched ({len(html)} HTML pages) in {result.seconds:.1f} s")
        _CRAWLS[role] = RoleCrawl(result, len(html), {url: found for url, found in shown.items() if found})
    return _CRAWLS[role]


# --- (a) no dead links ------------------------------------------------------------------------------------

LOGIN = "/accounts/login/"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_link_a_role_reaches_answers(role, request):
    crawled = crawl_of(role, request)
    result = crawled.result
    assert not result.truncated, f"{role}: the crawl hit its limit of URLs"
    assert crawled.html_pages > 5, [p.url for p in result]
    problems = [f"{p.status} {p.url}  ← {p.referrer}" for p in result.errors()]
    if ROLES[role] is not None:
        # A signed-in person sent to the login page by a link is refused too (the page is not theirs).
        problems += [f"{p.status} {p.url} → {p.location}  ← {p.referrer}" for p in result
                     if p.location and urlsplit(p.location).path == LOGIN]
    assert problems == [], f"{role}: {len(problems)} dead links\n" + "\n".join(problems)


# --- (b) no code in visible text --------------------------------------------------------------------------

# A snake_case key: two or more lower-case words joined by underscores, not inside a longer word.
SNAKE = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
WORD = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?![A-Za-z0-9_])")
# Shown as data, not as a code: addresses and links written out, and e-mail addresses.
URL_OR_EMAIL = re.compile(r"(?:https?://|www\.)[\w./?=&%#:~+-]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w/])/[\w./?=&%-]+",
                          re.ASCII)


def _policy_codes(value, found):
    """Every "code" of a city's rules (duty categories, registrations, …): a JSON document of dicts and lists."""
    if isinstance(value, dict):
        code = value.get("code")
        if isinstance(code, str):
            found.add(code)
        for item in value.values():
            _policy_codes(item, found)
    elif isinstance(value, list):
        for item in value:
            _policy_codes(item, found)


def known_codes() -> set[str]:
    """The system's own codes that could leak as bare English words: the values of every model field's
    choices, the city codes, and the codes of the cities' rules (policy profiles)."""
    from django.apps import apps
    from django.db import models as m

    from rpms.cities.models import City, PolicyProfile

    codes = set()
    for model in apps.get_models():
        if not model.__module__.startswith("rpms."):
            continue
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or []:
                if isinstance(value, str):
                    codes.add(value)
            if isinstance(f, m.JSONField) and model is PolicyProfile:
                for policy in PolicyProfile.objects.values_list(f.name, flat=True):
                    _policy_codes(policy, codes)
    codes.update(City.objects.values_list("code", flat=True))
    # Only lower-case words can be a code here; one letter or digits alone are not telling.
    return {c for c in codes if re.fullmatch(r"[a-z][a-z0-9_]+", c)}


# Legitimate English a page may show as a whole word, each with its reason. Codes are lower-case words; these are
# the lower-case words that are not codes of this system when they stand alone on a page.
ALLOWED_WORDS = {
    # The management command an installer runs to set the separated administrators up (manage.py …): shown to
    # the system administrator as the command to type, which has no other name.
    "create_administrators": "a command's name",
}
# Pages where the user names of accounts are shown as what they are, the name one signs in with: account
# administration (the 用户名 column and field: the separated administrators' and the city's institution accounts),
# one's own two-factor setup ("账户名填写您的用户名"), and the audit trail, which names the account that acted or was
# acted on beside the person's name (which login did it is the evidence; 操作人 shows the name).
USERNAME_PAGES = ("/accounts/manage/", "/accounts/city/", "/accounts/2fa/", "/audit/")
# A dataset's or API's field names and values shown in a data dictionary beside their Chinese labels
# (<code class="api"> and the field tables <table class="… api-fields"> of the open-data page): the exact names a
# program must use, not labels.
API_NAME = re.compile(r'<code class="api">.*?</code>|<table class="[^"]*\bapi-fields\b[^"]*">.*?</table>', re.S)
# Data shown verbatim as the system stores it, marked class="raw-data" and captioned as such: an audit row's
# before/after values and a key no label is known for (evidence must show exactly what was recorded), and the
# policy editor's JSON lists (the editing format of rules-as-data; issue #19 replaces it with a guided form).
RAW_DATA = re.compile(r'<(pre|code|textarea)\b[^>]*\bclass="[^"]*\braw-data\b[^"]*"[^>]*>.*?</\1>', re.S)


def codes_in(text: str, codes: set[str]) -> list[str]:
    text = URL_OR_EMAIL.sub(" ", text)
    found = set(SNAKE.findall(text))
    words = set(WORD.findall(text))
    found |= words & codes
    return sorted(found - set(ALLOWED_WORDS))


def test_codes_in_finds_snake_case_and_bare_codes_but_not_urls():
    codes = {"core", "beijing", "co_governance"}
    assert codes_in("类别：co_governance，分区：core，城市 beijing", codes) == ["beijing", "co_governance", "core"]
    assert codes_in("详见 https://example.org/open_data/core 或 a_b@example.org", codes) == []
    assert codes_in("核心区（core）与 recruitment.objection_submit", codes) == ["core", "objection_submit"]
    assert codes_in("RPMS 导出 PDF 与 Excel；scoring", codes) == []


def page_codes(page, codes, usernames) -> list[str]:
    """The codes shown on a crawled page, less what the page shows legitimately (see above)."""
    shown = codes_in(visible_text(RAW_DATA.sub(" ", API_NAME.sub(" ", page.content))), codes)
    if page.url.startswith(USERNAME_PAGES):
        shown = [code for code in shown if code not in usernames]
    return shown


@pytest.mark.parametrize("role", list(ROLES))
def test_no_code_in_the_visible_text_of_a_role_s_pages(role, request):
    crawled = crawl_of(role, request)
    problems = {}
    for url, codes in crawled.codes.items():
        for code in codes:
            problems.setdefault(code, []).append(url)
    lines = [f"{code}: {len(urls)} pages, e.g. {', '.join(urls[:3])}" for code, urls in sorted(problems.items())]
    assert problems == {}, f"{role}: codes shown on pages\n" + "\n".join(lines)


# --- the crawler's own helpers (no database) --------------------------------------------------------------

PAGE = """<html><head><title>页面</title><style>.x{}</style><script>var snake_case_in_script = 1;</script></head><body>
<a href="/a/?page=2&amp;q=1">甲</a><a href="https://example.org/">外</a><a href="mailto:x@example.org">信</a>
<img src="/static/x.png" alt="示意图"><input type="submit" value="提交"><input type="text" value="typed_value">
<form method="get" action="/find/"><input name="q"></form>
<form method="POST" action="/save/"><input type="hidden" name="csrfmiddlewaretoken" value="t">
<input name="title" value="旧标题" required><textarea name="body">
正文</textarea><select name="kind" required><option value="">请选择</option><option value="b" selected>乙</option></select>
<select name="tags" multiple><option value="x" selected>X</option><option value="y">Y</option></select>
<input type="checkbox" name="agree" value="1" checked><button name="action" value="save">保存</button></form>
<form method="post"><input name="n"></form></body></html>"""


def test_visible_text_reads_what_a_person_sees():
    text = visible_text(PAGE)
    assert "页面" in text and "甲" in text and "示意图" in text and "提交" in text and "正文" in text
    assert "snake_case_in_script" not in text and ".x{}" not in text and "typed_value" not in text


def test_links_and_forms_on_a_page():
    from tests.crawl import _local, links_on

    links = [_local(link, "/here/") for link in links_on(PAGE)]
    assert links == ["/a/?page=2&q=1", None, None]
    forms = forms_on(PAGE, url="/here/")
    assert [f["action"] for f in forms] == ["/save/", "/here/"]  # POST forms only; an empty action is the page
    fields = {f["name"]: f for f in forms[0]["fields"]}
    assert fields["title"] == {"name": "title", "type": "text", "value": "旧标题", "required": True, "options": [],
                               "checked": False, "multiple": False}
    assert fields["body"]["value"] == "正文" and fields["body"]["type"] == "textarea"
    assert fields["kind"]["value"] == "b" and fields["kind"]["options"] == ["", "b"] and fields["kind"]["required"]
    assert fields["tags"]["value"] == ["x"] and fields["tags"]["multiple"]
    assert fields["agree"]["checked"] and fields["agree"]["value"] == "1"
    assert fields["action"]["type"] == "submit" and fields["action"]["value"] == "save"
    assert fields["csrfmiddlewaretoken"]["type"] == "hidden"
