"""WCAG 2.1 A/AA basics on every public page (issue #7, quality bar), checked in the browser with the
vendored axe-core 4.14.1 (tests/browser/vendor/axe.min.js): no violation of impact "serious" or
"critical"; <html lang="zh-Hans">; exactly one <h1>; every form control has an accessible name."""
from pathlib import Path

import pytest

from .conftest import artifact_path

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200), impact: n.impact})),
  }));
}"""

# Controls a person fills in or operates; each needs a name from <label>, aria-label(ledby) or title.
UNLABELLED_CONTROLS = """() => {
  const clean = s => (s || "").replace(/\\s+/g, " ").trim();
  const skip = new Set(["hidden", "submit", "button", "reset", "image"]);
  const found = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.tagName === "INPUT" && skip.has((el.getAttribute("type") || "text").toLowerCase())) continue;
    let name = clean(el.getAttribute("aria-label"));
    const ids = el.getAttribute("aria-labelledby");
    if (!name && ids) name = clean(ids.split(/\\s+/).map(id => (document.getElementById(id) || {}).textContent).join(" "));
    if (!name && el.labels) name = clean([...el.labels].map(l => l.textContent).join(" "));
    if (!name) name = clean(el.getAttribute("title"));
    if (!name) found.push(el.outerHTML.slice(0, 200));
  }
  return found;
}"""


def audit(page) -> dict:
    """The problems of the page now shown in `page`."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(RUN_AXE, TAGS)
    return {
        "lang": page.evaluate("document.documentElement.getAttribute('lang')"),
        "h1": page.locator("h1").count(),
        "unlabelled": page.evaluate(UNLABELLED_CONTROLS),
        "blocking": [v for v in violations if v["impact"] in BLOCKING],
        "other": [v for v in violations if v["impact"] not in BLOCKING],
    }


BROKEN_PAGE = """<!doctype html><html lang="en"><head><title>x</title></head><body>
<input type="text" name="q"><p style="color:#ddd;background:#fff">低对比度文字</p></body></html>"""


def test_public_pages_have_no_serious_accessibility_violations(pages, public_pages):
    # The checker itself finds what it must (so that a silent no-op cannot pass this test).
    probe = pages.open(bypass_csp=True)
    probe.set_content(BROKEN_PAGE)
    found = audit(probe)
    assert {"label", "color-contrast"} <= {v["id"] for v in found["blocking"]}, found
    assert found["unlabelled"] and found["h1"] == 0 and found["lang"] == "en"
    probe.context.close()

    # Keyboard: the first Tab on the home page reaches the skip link, which moves focus to the content.
    home = pages.open()
    home.goto("/")
    home.keyboard.press("Tab")
    assert home.evaluate("document.activeElement.textContent.trim()") == "跳到主要内容"
    home.keyboard.press("Enter")
    assert home.evaluate("document.activeElement.id") == "main"
    home.context.close()

    problems, absent, report = [], [], []
    page = pages.open(bypass_csp=True)
    for index, (label, path) in enumerate(public_pages, start=1):
        response = page.goto(path)
        if response.status == 404:
            absent.append(path)
            continue
        assert response.status == 200, f"{label} {path}: HTTP {response.status}"
        found = audit(page)
        slug = path.strip("/").split("/")[0].split("?")[0] or "home"
        page.screenshot(path=str(artifact_path(f"a11y-{index:02d}-{slug}")), full_page=True)
        report.append({"page": path, **found})
        if found["lang"] != "zh-Hans":
            problems.append(f"{path}: <html lang=\"{found['lang']}\">，应为 zh-Hans")
        if found["h1"] != 1:
            problems.append(f"{path}: 应有且只有一个 <h1>，实际 {found['h1']} 个")
        for html in found["unlabelled"]:
            problems.append(f"{path}: 表单控件没有可访问名称：{html}")
        for v in found["blocking"]:
            for node in v["nodes"]:
                problems.append(f"{path}: [{v['impact']}] {v['id']} ({v['help']}) at {node['target']}: {node['html']}")
    for entry in report:  # every finding, including moderate and minor ones, for the record
        found = [f"{v['id']}({v['impact']})x{len(v['nodes'])}" for v in entry["blocking"] + entry["other"]]
        print(f"axe {entry['page']}: {', '.join(found) or 'no violations'}")
    if absent:
        print("pages not built yet (404), not audited:", ", ".join(absent))
    assert len(report) >= len(public_pages) - 2, f"too many public pages missing: {absent}"
    assert not problems, "无障碍检查未通过：\n" + "\n".join(problems)
