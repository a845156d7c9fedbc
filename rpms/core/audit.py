"""Writing the audit trail. Every service that changes state calls `audit_log` once, inside its
transaction, so the row commits or rolls back with the change."""
import datetime
import decimal
import uuid

from django.db import models, transaction
from django.forms.models import model_to_dict

from .context import current_ip
from .masking import mask_personal_fields
from .models import ActionLog


def _jsonable(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or None
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """A JSON-safe picture of a model instance for the before/after columns."""
    data = model_to_dict(instance, fields=fields)
    return _jsonable(data)


def audit_log(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before=None,
    after=None,
    article: str = "",
    summary: str = "",
    city_code: str = "",
) -> ActionLog:
    if not transaction.get_connection().in_atomic_block:
        # An audit row outside the service's transaction could survive a failed change.
        raise RuntimeError("audit_log must be called inside the service's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:255]
        if not city_code:
            city = getattr(obj, "city", None)
            city_code = getattr(city, "code", "") or ""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return ActionLog.objects.create(
        actor=actor if is_user else None,
        actor_repr=(actor.get_username() if is_user else "系统")[:150],
        ip=current_ip.get(),
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=object_repr[:255],
        city_code=city_code,
        article=article,
        summary=summary[:255],
        # Identity numbers, mobiles and contacts are masked in the trail (GB/T 39786-2021: encrypted at rest).
        before=mask_personal_fields(_jsonable(before)),
        after=mask_personal_fields(_jsonable(after)),
    )
