"""Issue #17 item 4: every form keeps everything typed when it is refused.

For each demo role the pages it reaches are crawled (tests/crawl.py); every POST form with at least two fields a
person types or picks a value into is filled with distinctive values (a Chinese marker in each text, a number
within its bounds, an option of each select, a recent date), ONE field is made invalid (a number out of its range,
a required field left blank, or else a date that does not exist), and the form is submitted inside a savepoint that is rolled back (submissions do
not affect each other or the world). The answer must be the refusal shown on a page — not a 5xx, not a redirect —
with the form filled again with every other value.

Forms that cannot be refused from the page are listed in NO_REFUSAL with the reason; a form that has no field to
make invalid and is not listed fails the test."""
from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from rpms.core import clock

from tests.conftest import DEMO_ROLES
from tests.crawl import crawl, forms_on
from tests.test_role_crawl import NEW_APPLICANT, _new_applicant

TEXT_TYPES = ("text", "email", "tel", "url", "search")
NUMBER_TYPES = ("number", "range")
DATE_TYPES = ("date",)
TYPED = TEXT_TYPES + NUMBER_TYPES + DATE_TYPES + ("textarea", "select", "month", "time", "datetime-local")

# Every demo role: the institution's (tests/conftest.py DEMO_ROLES), the three separated administrators and a
# planner who has registered but is not in the pool yet (the role crawl's new applicant).
ROLES = {**DEMO_ROLES, "system_admin": "system_admin", "security_admin": "security_admin",
         "audit_admin": "audit_admin", "new_applicant": NEW_APPLICANT}

# The roles whose pages carry forms of two typed fields or more (the auditor and the audit administrator read;
# the public's forms are few; the security administrator's role form is one choice and check boxes).
WRITING_ROLES = ("city_admin", "city_admin_pingdingshan", "district_officer", "street_office", "planner",
                 "system_admin")

# Forms with nothing a page can refuse (every value is optional and free), by URL pattern and the reason.
NO_REFUSAL: dict[str, str] = {
}


def _route(path: str) -> str:
    try:
        return resolve(path.split("?", 1)[0]).route
    except Resolver404:
        return path


def _editable(field) -> bool:
    if field["type"] not in TYPED:
        return False
    if field["type"] == "select":
        return any(option not in ("", None) for option in field["options"])
    return True


def _number(field, index) -> str:
    # a distinctive whole number within the field's bounds (min/max are not in forms_on: read from the markup)
    low, high = field.get("min"), field.get("max")
    low = float(low) if low not in (None, "") else 1.0
    high = float(high) if high not in (None, "") else low + 1000
    value = low + 1 + (index * 7) % max(1, int(high - low) - 1)
    return str(int(min(value, high)))


def _text(field, marker) -> str:
    name = field["name"].lower()
    if field["type"] == "email" or "email" in name:
        return f"kept{abs(hash(marker)) % 10000}@example.cn"
    if field["type"] == "tel" or any(part in name for part in ("mobile", "phone", "tel")):
        return f"139{abs(hash(marker)) % 100000000:08d}"
    if field["type"] == "url":
        return f"https://example.cn/{abs(hash(marker)) % 10000}"
    length = field.get("maxlength")
    return marker[: int(length)] if length else marker


def _bounds(html: str, form_index: int, forms) -> None:
    """Adds min, max and maxlength of each input of the form (forms_on does not read them)."""
    blocks = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S | re.I)
    if form_index >= len(blocks):
        return
    block = blocks[form_index]
    for field in forms[form_index]["fields"]:
        tag = re.search(rf'<(?:input|textarea)\b[^>]*\bname="{re.escape(field["name"])}"[^>]*>', block)
        if not tag:
            continue
        for attribute in ("min", "max", "maxlength"):
            found = re.search(rf'\b{attribute}="([^"]*)"', tag.group(0))
            if found:
                field[attribute] = found.group(1)


def _plan(form, role):
    """(data, invalid field name, {name: value expected again}) or None when no field can be made invalid."""
    data: dict[str, list[str]] = {}
    expected: dict[str, str] = {}
    clicked = False
    for index, field in enumerate(form["fields"]):
        kind, name = field["type"], field["name"]
        marker = f"留存{role[:2]}{index}号"
        if kind == "hidden":
            data.setdefault(name, []).append(field["value"])
        elif kind in ("submit", "button"):
            if not clicked:  # the first named button is the one clicked
                data.setdefault(name, []).append(field["value"])
                clicked = True
        elif kind in ("checkbox",):
            if field["checked"]:
                data.setdefault(name, []).append(field["value"])
        elif kind == "radio":
            data[name] = [field["value"]]  # the last option of the group is the one picked
            expected[name] = field["value"]
        elif kind in NUMBER_TYPES:
            data[name] = [_number(field, index)]
            expected[name] = data[name][0]
        elif kind in DATE_TYPES:
            data[name] = [(clock.today() - dt.timedelta(days=index % 5)).isoformat()]
            expected[name] = data[name][0]
        elif kind == "select":
            options = [option for option in field["options"] if option not in ("", None)]
            if not options:
                continue
            chosen = options[-1] if len(options) > 1 else options[0]
            data[name] = [chosen]
            if not field["multiple"]:
                expected[name] = chosen
        elif kind in TEXT_TYPES or kind == "textarea":
            data[name] = [_text(field, marker)]
            expected[name] = data[name][0]
    invalid = None
    for field in form["fields"]:  # a number out of its range first
        if field["type"] in NUMBER_TYPES and field.get("max") not in (None, ""):
            invalid = field["name"]
            data[invalid] = [str(int(float(field["max"])) + 1000)]
            break
    if invalid is None:  # else a required field left blank
        for field in form["fields"]:
            if field["required"] and field["name"] in expected:
                invalid = field["name"]
                if field["type"] == "radio":
                    data.pop(invalid)  # no option of a required group picked
                else:
                    data[invalid] = [""]
                break
    if invalid is None:  # else a date that does not exist
        for field in form["fields"]:
            if field["type"] in DATE_TYPES:
                invalid = field["name"]
                data[invalid] = ["2026-02-30"]
                break
    if invalid is None:
        return None
    expected.pop(invalid, None)
    return data, invalid, expected


def _same_form(forms, action, hidden):
    for form in forms:
        if form["action"] != action:
            continue
        values = {f["name"]: f["value"] for f in form["fields"] if f["type"] == "hidden"}
        if all(values.get(name, value) == value for name, value in hidden.items() if name != "csrfmiddlewaretoken"):
            return form
    return None


def _shown_value(form, name):
    fields = [f for f in form["fields"] if f["name"] == name]
    if not fields:
        return None
    if fields[0]["type"] == "radio":
        return next((f["value"] for f in fields if f["checked"]), None)
    return fields[0]["value"]


def _client(username):
    from rpms.accounts.models import User

    client = Client()
    if username:
        client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.parametrize("role", list(ROLES))
def test_a_refused_form_keeps_everything_typed(role, demo_world):
    if role == "new_applicant":
        _new_applicant()
    client = _client(ROLES[role])
    pages = crawl(client, ["/"], per_pattern=1)
    seen, problems, tried = set(), [], 0
    for page in pages.html_pages:
        if page.status >= 400:
            continue
        forms = forms_on(page.content, page.url)
        for index, form in enumerate(forms):
            editable = [f for f in form["fields"] if _editable(f)]
            if len(editable) < 2:
                continue
            route = _route(form["action"])
            key = (route, tuple(sorted(f["name"] for f in editable)))
            if key in seen or route in NO_REFUSAL:
                continue
            seen.add(key)
            _bounds(page.content, index, forms)
            plan = _plan(form, role)
            if plan is None:
                problems.append(f"{route}（{page.url} 上的表单）：没有可以填错的字段，也未列入 NO_REFUSAL")
                continue
            data, invalid, expected = plan
            tried += 1
            with transaction.atomic():
                response = client.post(form["action"], data)
                transaction.set_rollback(True)
            where = f"{route}（{page.url}，填错 {invalid}）"
            if response.status_code >= 500:
                problems.append(f"{where}：{response.status_code}")
                continue
            if 300 <= response.status_code < 400:
                problems.append(f"{where}：被拒绝时重定向到 {response.get('Location')}，填写的内容丢失")
                continue
            html = unescape(response.content.decode(response.charset or "utf-8", errors="replace"))
            hidden = {name: values[0] for name, values in data.items()
                      if any(f["name"] == name and f["type"] == "hidden" for f in form["fields"])}
            again = _same_form(forms_on(html, form["action"]), form["action"], hidden)
            if again is None:
                problems.append(f"{where}：{response.status_code}，页面上没有再显示该表单")
                continue
            lost = [f"{name}={value!r}→{_shown_value(again, name)!r}" for name, value in expected.items()
                    if str(_shown_value(again, name)) != value
                    and not _same_number(_shown_value(again, name), value)]
            if lost:
                problems.append(f"{where}：{response.status_code}，未保留 {'，'.join(lost)}")
    print(f"{role}: {tried} forms submitted with one invalid field")
    assert not problems, "\n".join(problems)
    if role in WRITING_ROLES:
        assert tried, "no form tried"


def _same_number(shown, value) -> bool:
    try:
        return float(shown) == float(value)
    except (TypeError, ValueError):
        return False
