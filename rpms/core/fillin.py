"""A refused form keeps what was typed (issue #17 item 4), in one place.

When a page's POST is refused, the page is shown again (never a redirect) with the refusal's message and its
4xx status (rpms.core.web). `fill_in(html, action, data)` then writes the submitted values back into the form of
that page which was submitted — the form whose action is the POST's path (an empty action is the page itself)
and whose hidden fields carry the submitted values (several forms on a page may post to one URL, one per row):
text-like inputs get their value, a textarea its text, a select its selected options, checkboxes and radio
buttons their checked state. A template that already shows the submitted values is left as it was (the values
are the same); passwords, files and hidden fields are never written (the server decides those).

FillInMiddleware applies it to every HTML answer to a POST that is a refusal (a 4xx status), and to the form
shown again by 返回修改 from a confirmation page (rpms.core.confirm marks that answer)."""
from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Inputs whose value is what the user typed or picked.
TEXT_TYPES = frozenset({
    "text", "number", "date", "email", "tel", "url", "search", "month", "week", "time", "datetime-local",
    "range", "color", "",
})
NEVER_FILLED = frozenset({"password", "file", "hidden", "submit", "button", "reset", "image"})
SKIPPED_NAMES = frozenset({"csrfmiddlewaretoken", "confirm"})

FILL_IN_MARK = "_rpms_fill_in"  # set on a request whose answer gets the submitted values (see FillInMiddleware)


def _attr_text(attrs: list[tuple[str, str | None]]) -> str:
    parts = []
    for name, value in attrs:
        parts.append(name if value is None else f'{name}="{escape(value, quote=True)}"')
    return (" " + " ".join(parts)) if parts else ""


def _set(attrs, name, value):
    out = [(k, v) for k, v in attrs if k != name]
    if value is not False:
        out.append((name, None if value is True else value))
    return out


class _Form:
    def __init__(self, start: int, attrs: dict):
        self.start = start
        self.attrs = attrs
        self.end = None
        self.edits: list[tuple[int, int, str]] = []
        self.hidden: list[tuple[str, str]] = []


class _Scanner(HTMLParser):
    """Finds the forms of a page, their hidden fields and the edits that put `data` into their fields."""

    def __init__(self, html: str, data):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.data = data
        self.forms: list[_Form] = []
        self.form: _Form | None = None
        self.select: str | None = None
        self.textarea: tuple[str, int] | None = None
        # HTMLParser counts lines by "\n" alone.
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", html)]

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _tag_span(self) -> tuple[int, int]:
        start = self._offset()
        return start, start + len(self.get_starttag_text() or "")

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag, attrs, *, closed):
        if tag == "form":
            self.form = _Form(self._offset(), dict(attrs))
            self.forms.append(self.form)
            return
        form = self.form
        if form is None:
            return
        values = dict(attrs)
        name = values.get("name")
        if tag == "input":
            kind = (values.get("type") or "").lower()
            if kind == "hidden" and name:
                form.hidden.append((name, values.get("value") or ""))
            if not name or name in SKIPPED_NAMES or kind in NEVER_FILLED or name not in self.data:
                if kind in ("checkbox", "radio") and name and name not in SKIPPED_NAMES and self.data:
                    # An unticked box is not submitted: it stays unticked.
                    self._replace(tag, attrs, _set(attrs, "checked", False), closed)
                return
            if kind in ("checkbox", "radio"):
                ticked = (values.get("value") or "on") in self.data.getlist(name)
                self._replace(tag, attrs, _set(attrs, "checked", ticked), closed)
            elif kind in TEXT_TYPES:
                self._replace(tag, attrs, _set(attrs, "value", self.data.get(name, "")), closed)
        elif tag == "select":
            self.select = name if name and name in self.data and name not in SKIPPED_NAMES else None
        elif tag == "option" and self.select is not None and "value" in values:
            chosen = (values.get("value") or "") in self.data.getlist(self.select)
            self._replace(tag, attrs, _set(attrs, "selected", chosen), closed)
        elif tag == "textarea" and name and name in self.data and name not in SKIPPED_NAMES:
            self.textarea = (name, self._tag_span()[1])

    def _replace(self, tag, old_attrs, new_attrs, closed):
        if old_attrs == new_attrs:
            return
        start, end = self._tag_span()
        self.form.edits.append((start, end, f"<{tag}{_attr_text(new_attrs)}{' /' if closed else ''}>"))

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            self.form.end = self._offset()
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            name, start = self.textarea
            text = self.data.get(name, "")
            # A newline right after <textarea> is dropped by browsers: keep one that starts the text.
            self.form.edits.append((start, self._offset(), escape(("\n" + text) if text.startswith("\n") else text,
                                                                   quote=False)))
            self.textarea = None


def _action_path(action: str | None, page_path: str) -> str:
    if not action:
        return page_path
    path = urlsplit(action).path
    return path or page_path


def fill_in(html: str, action: str, data) -> str:
    """`html` with `data` (a QueryDict: the submitted values) written into the form that posts to `action` (a
    path). Forms posting there whose hidden fields differ from the submission (other rows) are left alone."""
    scanner = _Scanner(html, data)
    try:
        scanner.feed(html)
        scanner.close()
    except Exception:  # noqa: BLE001 — a page the parser cannot read is shown as rendered
        return html
    candidates = [form for form in scanner.forms
                  if (form.attrs.get("method") or "get").lower() == "post"
                  and _action_path(form.attrs.get("action"), action) == action]
    matching = [form for form in candidates
                if all(name in SKIPPED_NAMES or name not in data or value in data.getlist(name)
                       for name, value in form.hidden)]
    edits = sorted((edit for form in matching for edit in form.edits), reverse=True)
    for start, end, text in edits:
        html = html[:start] + text + html[end:]
    return html


class FillInMiddleware:
    """Every refused POST (a 4xx HTML answer) and every 返回修改 shows the form with what was submitted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method != "POST" or getattr(response, "streaming", False):
            return response
        refused = 400 <= response.status_code < 500  # an error page has no form: nothing is written there
        if not (refused or getattr(request, FILL_IN_MARK, False)):
            return response
        if "text/html" not in response.get("Content-Type", ""):
            return response
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        charset = response.charset or "utf-8"
        html = response.content.decode(charset, errors="replace")
        filled = fill_in(html, request.path, request.POST)
        if filled != html:
            response.content = filled.encode(charset)
        return response
