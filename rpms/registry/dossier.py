"""The planner's file (个人档案, P5(2)): one row written inside the transaction of an audited act. Below the
registry's services and its limit exceptions, which both write it (re-exported by rpms.registry.services)."""
from rpms.core import clock

from .models import DossierEvent, Planner


def dossier_event_record(*, planner: Planner, kind: str, article: str, summary: str, actor=None, occurred_at=None,
                         source=None, data=None) -> DossierEvent:
    """Adds one row to the planner's file. Call it inside the transaction of the audited act."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = DossierEvent(
        planner=planner,
        kind=kind,
        occurred_at=occurred_at or clock.now(),
        article=article,
        summary=summary[:500],
        actor=actor if is_user else None,
        actor_repr=(actor.get_username() if is_user else "系统")[:150],
        source_type=source._meta.label_lower if source is not None else "",
        source_id=str(source.pk) if source is not None else "",
        data=data or {},
    )
    event.full_clean()
    event.save()
    return event
