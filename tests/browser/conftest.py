"""Browser tests (issue #7): Playwright's sync API driving Debian's chromium (/usr/bin/chromium, never a
downloaded browser) against pytest-django's `live_server`.

- The live server runs in a thread of this process, so the tests may move the system's clock (the root
  `clock` fixture) and call services directly; every test that uses `live_server` gets a transactional
  database (pytest-django), and the root conftest's personas (built on `db`) work there too.
- Playwright's sync API keeps an event loop running in the test thread; Django refuses ORM calls from a
  thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set (set below, for this folder only).
- Each test leaves a screenshot of its last page (the journey's end, or where it failed) at
  var/test-artifacts/browser/<test-name>.png.
- Without /usr/bin/chromium the tests are skipped with the reason, except in CI (environment variable CI
  set), where a missing browser is a failure."""
import os
import re
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"
PASSWORD = "Browser-pass-2026!"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def _playwright():
    if not CHROMIUM.exists():
        message = f"浏览器测试需要 Debian 的 chromium（{CHROMIUM} 不存在；apt-get install chromium，或运行 make test）"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield browser
    browser.close()


class Pages:
    """Opens browser contexts (fresh cookies, no cache shared between them) for one test; remembers the
    last page for the closing screenshot and collects uncaught script errors and Content-Security-Policy
    violations."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.last = None
        self.script_errors: list[str] = []

    def open(self, viewport=None, **options):
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        # Whatever the Content-Security-Policy blocked (an inline script, an eval, a foreign source) fails the test
        # too (issue #16 item 5): Chromium reports it as a console error.
        page.on("console", lambda message: self.script_errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text else None)
        self.last = page
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """Uploaded files (signed contract scans) go to a temporary private root."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def pages(browser, live_server, request):
    """`pages.open(viewport=...)` → a new page in a fresh context, addressed relative to the live server."""
    from playwright.sync_api import Error as PlaywrightError

    opened = Pages(browser, live_server.url)
    yield opened
    page = opened.last
    if page is not None and not page.is_closed():
        try:
            page.screenshot(path=str(artifact_path(request.node.name)), full_page=True)
        except PlaywrightError as exc:  # a screenshot must never hide the test's own result
            print(f"screenshot failed: {exc}")
    opened.close()
    call = getattr(request.node, "rep_call", None)
    if opened.script_errors and call is not None and call.passed:
        pytest.fail("页面脚本出错：\n" + "\n".join(opened.script_errors), pytrace=False)


def login(page, user, *, password: str = PASSWORD):
    """Signs `user` in through the real login page (its password is set to `password` first)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()
    header = page.locator(".site-user__name")
    assert header.inner_text().strip() == str(user), page.content()[:2000]  # the name, else the role (issue #17)
    return page


# --- the public pages audited for accessibility and weight --------------------------------------------


@pytest.fixture
def public_pages(clock, beijing, haidian, city_admin, district_haidian):
    """Data behind the public pages (an open notice, a filed appointment in 万寿路街道's unit, a
    suggestion with a public reply) and the list of (label, path) to audit. Pages of apps that are not
    built yet (/info/map/, /cases/) are listed; the tests skip a page that answers 404 and say so."""
    import datetime as dt

    from rpms.suggestions.services import suggestion_reply, suggestion_submit

    from .builders import appoint, notice_with_candidates, pool_member, unit_of

    notice_start = dt.date(2026, 11, 2)
    clock.set(notice_start)
    notice, _ = notice_with_candidates(city_admin, beijing, start=notice_start, names=["孙测试", "周测试"])
    unit = unit_of(beijing, "110108001")
    planner = pool_member(beijing, "岳晓明", districts=[haidian], with_account=True)
    appoint(city_admin, planner, unit, filed_by=district_haidian)
    street = unit.memberships.get(subdistrict__code="110108001").subdistrict
    suggestion = suggestion_submit(actor=None, unit=unit, subdistrict=street, category="suggestion",
                                   content="建议在万寿路西街增设座椅。", contact_name="", contact_phone="", photos=[])
    suggestion_reply(actor=planner.user, suggestion=suggestion, text="已纳入街区更新方案，感谢建议。")
    return [
        ("首页", "/"),
        ("找到我的责任规划师", "/find/?q=万寿"),
        ("征集与公示", "/recruitment/"),
        ("征集详情", f"/recruitment/calls/{notice.call_id}/"),
        ("入库公示", f"/recruitment/notices/{notice.pk}/"),
        ("意见建议", "/suggestions/"),
        ("意见建议查找结果", "/suggestions/?q=万寿"),
        ("单元意见建议", f"/suggestions/units/{unit.pk}/"),
        ("意见建议表单", f"/suggestions/units/{unit.pk}/new/?street=110108001"),
        ("查询办理进度", f"/suggestions/track/?code={suggestion.tracking_code}"),
        ("聘任公开", "/appointments/public/"),
        ("单元聘任公开", f"/appointments/units/{unit.pk}/"),
        ("文书核验", "/verify/"),
        ("工作人员登录", "/accounts/login/"),
        ("覆盖一张图", "/info/map/"),
        ("案例", "/cases/"),
    ]
