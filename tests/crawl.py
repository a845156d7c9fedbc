"""A small crawler for the system-wide tests (issue #17): every link a role can reach, and what its pages show.

Three helpers, all on the standard library and Django's test client:

- ``crawl(client, start)``: breadth-first over the same-origin ``<a href>`` links of the pages a (logged-in)
  client reaches from ``start``. Each distinct URL is fetched once; the links of at most ``per_pattern`` URLs
  of one resolved URL pattern (``django.urls.resolve(path).route``) are followed, but every distinct link
  found is still fetched, so that its status is checked. Skips logout, /static/, /admin/ and external links;
  fetches downloads (PDF, Excel, CSV…) for their status without reading them. Redirects are recorded and
  their target is fetched like a link of the page that led there. Returns the list of ``Page``.
- ``visible_text(html)``: the text a person sees on a page: the text outside ``<script>``/``<style>``/
  ``<template>``, plus the attribute values shown to users (title, placeholder, aria-label, alt, and the value
  of submit/button/reset inputs).
- ``forms_on(html, url=None)``: the ``<form method="post">`` of a page, each a dict
  ``{"action": str, "fields": [field, ...]}`` where a field is a dict
  ``{"name", "type", "value", "required", "options", "checked", "multiple"}``:
  ``type`` is the input's type ("text", "hidden", "checkbox", "file"…), "select" or "textarea";
  ``value`` the value the page sends as it stands (an input's value attribute, a textarea's text, a select's
  selected option value or "" — a list for a multiple select);
  ``required`` a bool; ``options`` the list of option values of a select (``[]`` otherwise);
  ``checked`` for checkboxes and radios; ``multiple`` for selects.
  ``action`` is the form's action resolved against ``url`` when given (an empty action is ``url`` itself).
  Buttons (``<button>`` and submit inputs) are fields too when they have a name.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

SKIP_PREFIXES = ("/static/", "/admin/", "/media/")
SKIP_PARTS = ("logout",)
SAME_ORIGIN_HOSTS = ("", "testserver")
HTML_TYPES = ("text/html",)


@dataclass
class Page:
    url: str
    status: int
    referrer: str | None
    content_type: str = ""
    content: str | None = None  # the HTML text of an HTML answer; None for downloads and redirects
    location: str | None = None  # where a redirect leads
    followed: bool = False  # whether its links were followed (at most per_pattern of one URL pattern)

    @property
    def is_html(self) -> bool:
        return self.content is not None


@dataclass
class CrawlResult:
    pages: list[Page] = field(default_factory=list)
    seconds: float = 0.0
    truncated: bool = False  # the fetch limit was reached before the queue was empty

    def __iter__(self):
        return iter(self.pages)

    def __len__(self):
        return len(self.pages)

    @property
    def html_pages(self) -> list[Page]:
        return [p for p in self.pages if p.is_html]

    def errors(self) -> list[Page]:
        """The answers 4xx or 5xx."""
        return [p for p in self.pages if p.status >= 400]


def _route(path: str) -> str:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).route or path
    except Resolver404:
        return path


def _local(url: str, base: str) -> str | None:
    """The same-origin path?query of a link on the page ``base``, or None for an external or non-HTTP link."""
    url = (url or "").strip()
    if not url or url.startswith(("mailto:", "tel:", "javascript:", "data:", "#")):
        return None
    absolute, _ = urldefrag(urljoin("http://testserver" + base, url))
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("testserver",):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _skipped(path: str, skip_prefixes) -> bool:
    bare = path.split("?", 1)[0]
    return bare.startswith(tuple(skip_prefixes)) or any(part in bare for part in SKIP_PARTS)


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def links_on(html: str) -> list[str]:
    """The href of every <a> of a page, as written (entities decoded)."""
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    return parser.links


def crawl(client, start, *, per_pattern: int = 3, limit: int = 3000, skip_prefixes=SKIP_PREFIXES) -> CrawlResult:
    """Fetch ``start`` and every same-origin link reachable from it (see the module's docstring)."""
    began = time.monotonic()
    result = CrawlResult()
    queue: deque[tuple[str, str | None]] = deque((path, None) for path in start)
    seen: set[str] = set(path for path in start)
    followed = Counter()
    while queue:
        if len(result.pages) >= limit:
            result.truncated = True
            break
        url, referrer = queue.popleft()
        headers = {"HTTP_REFERER": f"http://testserver{referrer}"} if referrer else {}
        response = client.get(url, **headers)
        kind = response.get("Content-Type", "")
        page = Page(url=url, status=response.status_code, referrer=referrer, content_type=kind)
        result.pages.append(page)
        found: list[str] = []
        if 300 <= response.status_code < 400:
            page.location = response.get("Location", "")
            found = [page.location]
        elif response.streaming:
            for _chunk in response.streaming_content:  # read a download through, so that its errors show
                pass
        elif kind.startswith(HTML_TYPES):
            page.content = response.content.decode(response.charset or "utf-8", errors="replace")
            route = _route(url.split("?", 1)[0])
            if response.status_code < 400 and followed[route] < per_pattern:
                followed[route] += 1
                page.followed = True
                found = links_on(page.content)
        if hasattr(response, "close"):
            response.close()
        for link in found:
            path = _local(link, url)
            if path is None or path in seen or _skipped(path, skip_prefixes):
                continue
            seen.add(path)
            queue.append((path, url))
    result.seconds = time.monotonic() - began
    return result


# --- what a person sees -----------------------------------------------------------------------------------

VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
BUTTON_INPUTS = ("submit", "button", "reset")
HIDDEN_ELEMENTS = ("script", "style", "template")


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1
            return
        values = dict(attrs)
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUTS and values.get("value"):
            self.parts.append(values["value"])

    def handle_startendtag(self, tag, attrs):
        if tag not in HIDDEN_ELEMENTS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The text a person sees on the page (see the module's docstring), one fragment a line."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


# --- forms ------------------------------------------------------------------------------------------------


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.form: dict | None = None
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self.form = {"action": a.get("action", ""), "fields": []}
                self.forms.append(self.form)
            else:
                self.form = None
            return
        if self.form is None:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if not a.get("name"):
                return
            self.form["fields"].append({
                "name": a["name"], "type": kind, "value": a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                "required": "required" in a, "options": [], "checked": "checked" in a, "multiple": "multiple" in a,
            })
        elif tag == "button":
            if a.get("name"):
                self.form["fields"].append({
                    "name": a["name"], "type": (a.get("type") or "submit").lower(), "value": a.get("value", ""),
                    "required": False, "options": [], "checked": False, "multiple": False,
                })
        elif tag == "textarea" and a.get("name"):
            self.textarea = {"name": a["name"], "type": "textarea", "value": "", "required": "required" in a,
                             "options": [], "checked": False, "multiple": False}
            self.form["fields"].append(self.textarea)
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "type": "select", "value": [] if "multiple" in a else None,
                           "required": "required" in a, "options": [], "checked": False, "multiple": "multiple" in a,
                           "_first": None}
            self.form["fields"].append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "option":
            self._option_end()

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data
        if self.option is not None:
            self.option["text"] += data

    def _option_end(self):
        option, select = self.option, self.select
        self.option = None
        if option is None or select is None:
            return
        value = option["value"] if option["value"] is not None else option["text"].strip()
        select["options"].append(value)
        if select["_first"] is None:
            select["_first"] = value
        if option["selected"]:
            if select["multiple"]:
                select["value"].append(value)
            else:
                select["value"] = value

    def handle_endtag(self, tag):
        if tag == "option":
            self._option_end()
        elif tag == "select" and self.select is not None:
            self._option_end()
            select, self.select = self.select, None
            if not select["multiple"] and select["value"] is None:
                select["value"] = select["_first"] if select["_first"] is not None else ""
            select.pop("_first", None)
        elif tag == "textarea" and self.textarea is not None:
            if self.textarea["value"].startswith("\n"):
                self.textarea["value"] = self.textarea["value"][1:]  # HTML drops the newline after <textarea>
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_on(html: str, url: str | None = None) -> list[dict]:
    """The POST forms of a page with their action and fields (see the module's docstring for their shape)."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    for form in parser.forms:
        for f in form["fields"]:
            f.pop("_first", None)
        if url is not None:
            form["action"] = (_local(form["action"], url) or form["action"]) if form["action"] else url
    return parser.forms
