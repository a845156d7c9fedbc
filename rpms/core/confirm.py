"""Confirmation before what cannot be undone (issue #17 item 5), without JavaScript.

A page's form for an irreversible act (issuing an opinion, consenting to a termination, filing and disclosing a
contract, a public reply, grading, removal from the pool) posts as usual. `confirm_first` answers that first POST
with a confirmation page saying what will follow (the consequences, from the rules) and carrying every submitted
value in hidden fields, with two buttons in one form posting back to the same URL:

- 确认 (confirm=1): the view goes on and performs the act;
- 返回修改 (confirm=back): the page of the form is shown again with everything submitted
  (rpms.core.fillin.FillInMiddleware fills it in).

The API is unchanged: an API client confirms by calling. A form may carry confirm=1 itself (a page of its own
that is already the confirmation), and static/js/confirm.js may add a browser dialog on top: neither is needed."""
from __future__ import annotations

from django.shortcuts import render

from .fillin import FILL_IN_MARK

CONFIRMED = "1"
BACK = "back"
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", "confirm"})


def confirm_first(request, *, title: str, consequences: list[str], back_to, summary: list[tuple[str, str]] = (),
                  button: str = "确认", intro: str = ""):
    """None when the POST is confirmed (the view performs the act); otherwise the answer to show: the
    confirmation page (`title`, what will follow: `consequences`, what was submitted: `summary` of (label,
    value)), or — after 返回修改 — the page of the form (`back_to`: a URL or URL name) with the values kept."""
    choice = request.POST.get("confirm", "")
    if choice == CONFIRMED:
        return None
    if choice == BACK:
        from .web import page_again

        setattr(request, FILL_IN_MARK, True)
        return page_again(request, back_to, "", status=200)
    carried = [(name, value) for name in request.POST for value in request.POST.getlist(name)
               if name not in NOT_CARRIED]
    return render(request, "core/confirm.html", {
        "title": title, "intro": intro, "consequences": [c for c in consequences if c],
        "summary": [(label, value) for label, value in summary if value not in (None, "")],
        "carried": carried, "action": request.path, "button": button,
    })
