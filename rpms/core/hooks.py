"""Named hooks: how a lower layer lets higher layers act on, or answer for, one of its acts without
importing them (CONVENTIONS, layers).

A higher app registers its handler in its `AppConfig.ready()`::

    hooks.register(hooks.PLANNER_REMOVED, removal.planner_removed)

and the lower app's service runs the hook where the act happens::

    hooks.run(hooks.PLANNER_REMOVED, actor=actor, planner=planner, ground=found)

`run` calls every handler in registration order with the same keyword arguments and returns their
answers in a list. Handlers run inside the caller's transaction: what they write commits or rolls back
with the act, and an exception in a handler refuses the whole act. A hook that nobody registered for
runs nothing and answers [] (the caller decides what that means).

The hooks (name, who runs it, keyword arguments, what a handler returns):

- PLANNER_REMOVED — rpms.registry.services.planner_remove_apply, after the planner left the pool (P5(4)):
  actor, planner, ground (the policy's removal ground item), occurred_at, source (the act that removed
  the planner, or None). Handlers do the removal's consequences and return nothing.
- TERM_REVIEWS — rpms.appointments.services.appointment_renew, where the city's policy requires a review
  before renewal (P6(4)): appointment, start, end (the current term). Handlers return a list of dicts
  {"status": "open" | "graded", "grade", "grade_label", "period_start", "period_end"} of the reviews of
  that term.
- APPOINTMENT_EVENT — rpms.appointments (its services, removal, signing and proposals), once per act that
  a party of the appointment must hear of (P6(2) the dispatch notice to the local government and the
  planner; B25 / P6(5) the exits; P5(4) a removal ending a posting): event (a code, see
  rpms.notifications.appointment_events.EVENTS), appointment, record (the request, withdrawal, proposal
  or signed contract concerned, or None), actor. Handlers deliver (rpms.notifications: inbox rows in the
  act's transaction, e-mail after commit) and return nothing.
- LIMIT_EXCEPTION_PERFORM — rpms.registry.limits.limit_exception_approve, once the city administrator has
  approved a pending exception to an in-principle limit (B18, B19(2), B19(7)): exception (the
  LimitException, its `act` and `payload` say what waits). The handler of the app owning the act performs
  it through the act's own service (every other rule checked again, the requester as the actor, the
  approved exception granted) and returns the record made; the others return None.
- LATEST_GRADE — rpms.appointments.services.latest_grade (P6(4)): appointment. The handler (rpms.assessments)
  returns the code of the latest grade recorded for the appointment, or None.
- RENEWAL_REFUSAL — rpms.appointments.services.appointment_renew (P6(4), B20): appointment. The handler
  (rpms.assessments) returns why the latest grade refuses the renewal, or None.
- COVERED_UNITS — rpms.geography.selectors.covered_unit_ids (B4 coverage): city. The handler
  (rpms.appointments) returns the ids of the city's units with an appointment in force today.
- GRADE_SCORES — rpms.dispatch.inputs.last_grade_scores (matching): planner_ids. The handler
  (rpms.assessments) returns {planner id: latest grade as 0..1}.
- ROWS_WRITTEN_IN_BULK — every service that writes rows without save()/delete() (bulk_create, QuerySet.update):
  model (the class), city_id (None: rows of every city), years (the calendar years the rows concern, None: every
  year). Signals do not fire for such writes; handlers (rpms.reports: the kept statistics) mark what the rows
  feed as changed. Call it through `rows_written_in_bulk`, inside the writing transaction. Handlers return
  nothing.
- NOTIFY — a lower layer's service whose act a person must hear of (rpms.registry: a profile change verified or
  refused, issue #17 item 8): users, event, title, body, url, key, city — the keyword arguments of
  rpms.notifications.services.notify, which is the handler (inbox rows in the act's transaction, e-mail after
  commit). Handlers return nothing the caller reads."""
from collections.abc import Callable

PLANNER_REMOVED = "planner_removed"
TERM_REVIEWS = "term_reviews"
APPOINTMENT_EVENT = "appointment_event"
LIMIT_EXCEPTION_PERFORM = "limit_exception_perform"
LATEST_GRADE = "latest_grade"
RENEWAL_REFUSAL = "renewal_refusal"
GRADE_SCORES = "grade_scores"
COVERED_UNITS = "covered_units"
ROWS_WRITTEN_IN_BULK = "rows_written_in_bulk"
NOTIFY = "notify"

KNOWN = frozenset({PLANNER_REMOVED, TERM_REVIEWS, APPOINTMENT_EVENT, LIMIT_EXCEPTION_PERFORM, LATEST_GRADE,
                   RENEWAL_REFUSAL, GRADE_SCORES, COVERED_UNITS, ROWS_WRITTEN_IN_BULK, NOTIFY})

_handlers: dict[str, list[Callable]] = {}


def _known(name: str) -> str:
    if name not in KNOWN:
        # A typo would silently run nothing: refuse it at once.
        raise ValueError(f"unknown hook {name!r} (known: {', '.join(sorted(KNOWN))})")
    return name


def register(name: str, handler: Callable) -> None:
    """Adds `handler` to hook `name` (once: registering the same function again is a no-op, as
    `ready()` may run more than once in tests)."""
    handlers = _handlers.setdefault(_known(name), [])
    if handler not in handlers:
        handlers.append(handler)


def unregister(name: str, handler: Callable) -> None:
    """Removes `handler` from hook `name` (tests)."""
    handlers = _handlers.get(_known(name), [])
    if handler in handlers:
        handlers.remove(handler)


def handlers(name: str) -> tuple[Callable, ...]:
    return tuple(_handlers.get(_known(name), ()))


def run(name: str, **kwargs) -> list:
    """Calls every handler of hook `name` with `kwargs`; returns their answers, in registration order."""
    return [handler(**kwargs) for handler in handlers(name)]


def rows_written_in_bulk(model, *, city_id=None, years=None) -> None:
    """Tells the higher layers that rows of `model` (of city `city_id`, None: any; concerning `years`, None: any)
    were written without save()/delete(), so no signal told them (ROWS_WRITTEN_IN_BULK)."""
    years = None if years is None else sorted({int(y) for y in years if y})
    if years == []:
        return
    run(ROWS_WRITTEN_IN_BULK, model=model, city_id=city_id, years=years)
