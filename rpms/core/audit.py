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


# Notes a higher app adds to the rows of an actor (issue #17 item 7: rpms.accounts.delegation.audit_note names the
# colleague a delegate acts for). A note is `f(actor=, obj=) -> {"on_behalf_of": [...], "names": "…"} | None`;
# registered in the app's ready(). The note goes into the row's `after` and its summary ("（代…办理）").
ROW_NOTES: list = []


def register_row_note(note) -> None:
    if note not in ROW_NOTES:
        ROW_NOTES.append(note)


def _noted(actor, obj, after, summary):
    for note in ROW_NOTES:
        found = note(actor=actor, obj=obj)
        if found:
            after = dict(after) if isinstance(after, dict) else ({} if after is None else {"value": after})
            after["on_behalf_of"] = found["on_behalf_of"]
            summary = f"{summary}（代{found['names']}办理）"
    return after, summary


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
    if is_user and ROW_NOTES:
        after, summary = _noted(actor, obj, after, summary)
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


# --- Sensitive reads (issue #16 item 4): exports of personal data and downloads of private files ------------------
# GB/T 22239-2019 8.1.4.3 (安全审计: 审计覆盖到每个用户, 对重要的用户行为进行审计); 个人信息保护法 art. 51.
SENSITIVE_READ_ARTICLE = "GB/T 22239-2019 8.1.4.3"
ACTION_EXPORT = "core.personal_data_export"
ACTION_DOWNLOAD = "core.private_file_download"


def _city_code_of(obj, actor) -> str:
    """The city an audited read belongs to: the object's (or an already loaded parent's), else the actor's."""
    candidates = [obj] if obj is not None else []
    if obj is not None:
        for field in obj._meta.concrete_fields:
            if field.is_relation and field.many_to_one and field.is_cached(obj):
                candidates.append(getattr(obj, field.name))
    for candidate in candidates:
        city = getattr(candidate, "city", None)
        code = getattr(city, "code", "")
        if code:
            return code
    city = getattr(actor, "city", None) if getattr(actor, "is_authenticated", False) else None
    return getattr(city, "code", "") or ""


def audit_read(
    *,
    actor,
    action: str,
    summary: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    detail: dict | None = None,
    city_code: str = "",
    article: str = SENSITIVE_READ_ARTICLE,
) -> ActionLog:
    """One audit row for a sensitive read, in a transaction of its own (a read has no service transaction to
    share): who exported or downloaded what (`summary`, `detail`), of which record, under which article."""
    with transaction.atomic():
        return audit_log(
            actor=actor, action=action, obj=obj, object_type=object_type, object_id=object_id,
            object_repr=object_repr, after=detail, article=article, summary=summary,
            city_code=city_code or _city_code_of(obj, actor),
        )


def audit_export(*, actor, what: str, object_type: str, filters=None, city_code: str = "", obj=None) -> ActionLog:
    """An export of personal data (an Excel file leaving the system): what was exported and with which filters."""
    filters = {key: value for key, value in dict(filters or {}).items() if value not in (None, "", [])}
    return audit_read(
        actor=actor, action=ACTION_EXPORT, summary=f"导出：{what}"[:255], obj=obj, object_type=object_type,
        object_repr=what[:255], detail={"what": what, "filters": filters}, city_code=city_code,
    )
