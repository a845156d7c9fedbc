"""What a removal from the pool does to the planner's postings (P5(4)), and the replacement (调整补位,
P6(5)) of a posting that a removal ended.

rpms.registry is a lower layer: it removes the planner (the city's removal on a policy ground, or an
unqualified grade in rpms.assessments, P6(4)) and runs the PLANNER_REMOVED hook inside that act's
transaction; `planner_removed` is registered on it in AppointmentsConfig.ready(). It ends every posting
of the planner that is not over (in force or not yet begun) on the removal date through the one helper
that ends appointments early (`services.appointment_end_record`, kind REMOVAL): the status becomes
REMOVED at once, so the posting no longer counts for coverage, the cap or the public pages and open data
(`Appointment.objects.active()` / `not_over()`), and the allowance of the running cycle is computed up to
that day (rpms.finance.cycles reads `ended_on`). Each posting ended writes its own audit row (citing the
city's article for removal) and a dossier row.

A posting ended by a removal waits for its replacement (the unit is flagged: `selectors.removed_posting_list`
with pending_only, the "退出与补位" page and the home page's pending list) until `removal_replace`
appoints one, like a withdrawal's (`services.withdrawal_replace`) — or, in a local-selection city, until
the district approves the entity's proposal for the unit and role (`proposals.proposal_approve`)."""
import datetime as dt

from django.db import transaction

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, NotFound
from rpms.registry.models import DossierEventKind
from rpms.registry.services import dossier_event_record

from . import services
from .models import Appointment, EndKind

ENDED_FIELDS = ["status", "ended_on", "end_kind", "end_reason"]


def planner_removed(*, actor, planner, ground: dict, occurred_at=None, source=None) -> list[Appointment]:
    """PLANNER_REMOVED handler (rpms.core.hooks): ends the removed planner's postings on the removal date.
    Runs inside the removal's transaction; returns the appointments ended."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("planner_removed must run inside the removal's transaction")
    today = clock.today()
    ids = list(
        Appointment.objects.select_for_update().filter(planner_id=planner.pk).not_over(today)
        .order_by("start", "id").values_list("pk", flat=True)
    )
    if not ids:
        return []
    postings = list(
        Appointment.objects.select_related("city__policy", "unit__district", "planner").filter(pk__in=ids)
        .order_by("start", "id")
    )
    ground_label = ground.get("label", "") or ground.get("code", "")
    ground_article = ground.get("article", "")
    ended = []
    for appointment in postings:
        city = appointment.city
        article = policy_article(city, "removal")
        unit = appointment.unit
        before = snapshot(appointment, ENDED_FIELDS)
        upcoming = appointment.start > today
        services.appointment_end_record(actor=actor, appointment=appointment, last_day=today, kind=EndKind.REMOVAL,
                                        reason=ground_label)
        where = f"{unit.district.name}{unit.name}{appointment.role_label}"
        summary = (f"因调出资源库（{ground_label}），{where}聘任在到任前终止" if upcoming
                   else f"因调出资源库（{ground_label}），{where}派驻终止，最后服务日 {appointment.ended_on}")
        data = {"appointment": appointment.pk, "unit": unit.pk, "role": appointment.role,
                "ended_on": appointment.ended_on.isoformat(), "ground": ground.get("code", ""),
                "ground_article": ground_article}
        dossier_event_record(planner=appointment.planner, kind=DossierEventKind.POSTING_ENDED, article=article,
                             actor=actor, occurred_at=occurred_at, source=appointment, summary=summary, data=data)
        audit_log(
            actor=actor, action="appointments.appointment_end_removal", obj=appointment, before=before,
            after={**snapshot(appointment, ENDED_FIELDS), "ground": ground.get("code", ""), "ground_label": ground_label,
                   "ground_article": ground_article,
                   "removed_by": source._meta.label_lower + f":{source.pk}" if source is not None else "registry.planner_remove",
                   "awaits_replacement": True},
            article=article, summary=f"{appointment.planner.name}调出资源库，{unit.name}{appointment.role_label}派驻终止，待调整补位",
        )
        services.appointment_event("posting_removed", appointment, None, actor=actor)
        ended.append(appointment)
    return ended


def replacement_start(appointment: Appointment) -> dt.date:
    """A replacement takes over the day after the removed posting's last day (or today, if that has passed)."""
    return max(appointment.ended_on + dt.timedelta(days=1), clock.today())


@transaction.atomic
def removal_replace(*, actor, appointment: Appointment, planner, fee_yuan=None, fee_note="", service_focus="") -> Appointment:
    """P6(5) 调整补位: appoints a replacement in the unit and role of a posting that a removal from the pool
    ended, from the day after its last day (or today), and records it on the ended posting (the unit is no
    longer flagged). Who may appoint (and the cap, the pool, …) as for any appointment: in a local-selection
    city nobody alone (403 `local_selection_required`; the approved proposal for the unit and role is
    recorded as the replacement, rpms.appointments.proposals). One audit row."""
    locked = Appointment.objects.select_for_update(of=("self",)).filter(pk=appointment.pk).first()
    if locked is None:
        raise NotFound()
    leaving = Appointment.objects.select_related("unit__city__policy", "unit__district", "city__policy", "planner").get(
        pk=locked.pk
    )
    services.require_replacement_appointer(actor=actor, leaving=leaving)
    if leaving.end_kind != EndKind.REMOVAL:
        raise Conflict("该聘任并非因调出资源库而终止，无需在此调整补位。", code="not_removed")
    if leaving.replacement_id is not None or leaving.withdrawals.filter(replacement__isnull=False).exists():
        raise Conflict("该派驻已安排补位人员。", code="already_replaced")
    if getattr(planner, "pk", planner) == leaving.planner_id:
        raise Conflict("补位人员不能是已调出资源库的责任规划师本人。", code="replacement_is_leaver")
    start = replacement_start(leaving)
    replacement = services._appointment_create(
        actor=actor, planner=planner, unit=leaving.unit, role=leaving.role, start=start, fee_yuan=fee_yuan,
        fee_note=fee_note, service_focus=service_focus or leaving.service_focus, source="replacement",
        note=f"接替因调出资源库终止派驻的 {leaving.planner.name}（最后服务日 {leaving.ended_on}）",
    )
    leaving.replacement = replacement
    leaving.save(update_fields=["replacement", "updated_at"])
    city = leaving.city
    audit_log(
        actor=actor, action="appointments.removal_replace", obj=replacement,
        after={**snapshot(replacement), "replaces": leaving.pk},
        article=services._article_text(policy_article(city, "replacement"), policy_article(city, "appointment")),
        summary=f"调整补位：{replacement.planner.name}接替{leaving.planner.name}任{replacement.unit.name}{replacement.role_label}",
    )
    return replacement
