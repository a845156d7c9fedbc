"""One way for a page to act (issue #14): call a service from a POST; when it refuses, show its Chinese
message — next to the form, re-rendered with everything typed and the refusal's status (400/409/…), or as a
message on the page the user came from — and when it accepts, flash a success message and redirect.

403 and 404 are not refusals to show next to a form: they propagate to the middleware, which renders the
error page (a record outside the user's scope stays invisible).

The coercers for what a form carries are in rpms.core.inputs."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render

from .errors import DomainError, Forbidden, NotFound

# --- acting from a page ---------------------------------------------------------------------------------------


NOT_REFUSALS = (NotFound, Forbidden)


def is_refusal(exc: DomainError) -> bool:
    """A refusal to show on the page; 403/404 go to the error page instead (rendered by the middleware)."""
    return not isinstance(exc, NOT_REFUSALS)


def _propagates(exc: DomainError, forbidden_too: bool, propagate) -> bool:
    """Whether `exc` goes on to the error page: `propagate` (the errors that do; `()` for none) when given,
    else 403/404 unless `forbidden_too`."""
    if propagate is None:
        propagate = () if forbidden_too else NOT_REFUSALS
    return isinstance(exc, propagate)


def _resolve(value, result):
    return value(result) if callable(value) else value


@dataclass
class Submission:
    """What became of a form's POST: `response` (the redirect) when the service accepted it; otherwise the
    page is shown again with `error` (the refusal's Chinese message) at `status`."""

    response: Any = None
    error: str = ""
    status: int = 200
    exc: DomainError | None = None
    result: Any = None

    @property
    def details(self):
        return getattr(self.exc, "details", None)

    @property
    def accepted(self) -> bool:
        return self.exc is None


def attempt(request, call: Callable[[], Any], *, success: str | Callable | None = None,
            forbidden_too: bool = False, propagate: tuple[type[DomainError], ...] | None = None) -> Submission:
    """Runs `call()` (a service call, or reading a query string). Accepted: flashes `success` (text, or a
    function of the result; None for no message); the Submission holds the result. Refused: the Submission
    carries the refusal (its message and status) for the page to show. 403/404 propagate (unless
    `forbidden_too`: the page shows them next to the form; or `propagate` names the errors that do, e.g.
    `(NotFound,)`, or `()` for none)."""
    try:
        result = call()
    except DomainError as exc:
        if _propagates(exc, forbidden_too, propagate):
            raise
        return Submission(error=exc.message, status=exc.status, exc=exc)
    message = _resolve(success, result)
    if message:
        messages.success(request, message)
    return Submission(result=result)


def submit(request, call: Callable[[], Any], *, success: str | Callable | None, redirect_to,
           forbidden_too: bool = False, propagate: tuple[type[DomainError], ...] | None = None) -> Submission:
    """`attempt`, and when accepted a redirect (`response`) to `redirect_to` (a URL, a URL name without
    arguments, or a function of the result returning one). Refused: no response — the page re-renders the
    form with what was typed and the Submission's `error` at its `status`."""
    sent = attempt(request, call, success=success, forbidden_too=forbidden_too, propagate=propagate)
    if sent.accepted:
        sent.response = redirect(_resolve(redirect_to, sent.result))
    return sent


def act(request, call: Callable[[], Any], *, success: str | Callable | None, redirect_to, refused_to=None,
        on_refusal: Callable[[DomainError], Any] | None = None, forbidden_too: bool = False,
        propagate: tuple[type[DomainError], ...] | None = None):
    """Runs `call()` from a button (a POST without a form of its own to re-render). Accepted: flashes
    `success` and redirects to `redirect_to`. Refused: `on_refusal(exc)` when given (e.g. re-render the page
    with `render_refusal`); otherwise the refusal's message is flashed and the user is sent to `refused_to`
    (by default `redirect_to`, which must then not depend on the result): that page is shown again at once,
    not redirected to, with the form filled with what was submitted (`page_again`). 403/404 propagate (unless
    `forbidden_too`, or as `propagate` says: see `attempt`)."""
    try:
        result = call()
    except DomainError as exc:
        if _propagates(exc, forbidden_too, propagate):
            raise
        if on_refusal is not None:
            return on_refusal(exc)
        return page_again(request, refused_to if refused_to is not None else redirect_to, exc.message,
                          status=exc.status)
    message = _resolve(success, result)
    if message:
        messages.success(request, message)
    return redirect(_resolve(redirect_to, result))


def render_refusal(request, template: str, context: dict, exc: DomainError, *, error_key: str = "error"):
    """The page re-rendered with the refusal's message under `error_key` and the refusal's status."""
    return render(request, template, {**context, error_key: exc.message}, status=exc.status)


def typed(data, fields: Iterable[str], *, strip: bool = True) -> dict[str, str]:
    """What the user typed into `fields` (of request.POST or GET), to show again when the form comes back."""
    return {name: (data.get(name, "") or "").strip() if strip else data.get(name, "") for name in fields}


def page_again(request, to, message: str, *, status: int = 400):
    """A refused POST answered with the page its form is on (`to`: a URL, or a URL name without arguments), not
    a redirect: that page's view is run for a GET, with `message` shown as an error and the refusal's status;
    rpms.core.fillin.FillInMiddleware then writes what was submitted back into the form (issue #17 item 4)."""
    import copy
    from urllib.parse import urlsplit

    from django.http import QueryDict
    from django.shortcuts import resolve_url
    from django.urls import resolve

    from django.urls import Resolver404

    target = resolve_url(to)
    url = urlsplit(target)
    try:
        match = resolve(url.path)
    except Resolver404:  # not a page of this site (a stale `next`): the message on the home page
        if message:
            messages.error(request, message)
        return redirect("/")
    page = copy.copy(request)
    page.method = "GET"
    page.GET = QueryDict(url.query)
    page.path = page.path_info = url.path
    page.resolver_match = match
    if message:
        messages.error(request, message)
    response = match.func(page, *match.args, **match.kwargs)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    if response.status_code == 200:
        response.status_code = status
    return response
