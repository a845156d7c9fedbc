"""Helpers shared by the duties services: input coercers, the planner/serving checks and stored uploads."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from rpms.core.errors import DomainError, Forbidden
from rpms.core.inputs import clean_or_refuse

from ..permissions import planner_of


def _text(value, *, label: str, max_length: int | None = None, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code="field_required")
    if max_length and len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字符。", code="field_too_long")
    return text


def _date(value, *, label: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"请填写{label}。", code="field_required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None




def _require_planner(actor):
    planner = planner_of(actor)
    if planner is None:
        raise Forbidden("只有责任规划师账户可以办理此事项。", code="planner_only")
    return planner


def _serving(actor, unit, on: dt.date):
    """The actor's appointment in `unit` in force on `on`, or 403 (B11/P3: a planner acts only where it serves)."""
    from rpms.appointments.serving import serving_appointment

    appointment = serving_appointment(user=actor, unit=unit, on=on)
    if appointment is None:
        raise Forbidden(
            f"您在 {on:%Y-%m-%d} 未受聘服务“{unit.name}”，不能以该责任单元的责任规划师身份办理。", code="not_serving"
        )
    return appointment


def _store(files, folder: str) -> list:
    """Stores each upload (content-checked) and returns the StoredProofs; on a refusal removes those
    already written, so nothing is left behind."""
    from rpms.core.uploads import proof_check, proof_delete, proof_store

    for upload in files:
        proof_check(upload)  # refuse a bad file before anything is written
    stored = []
    try:
        for upload in files:
            stored.append(proof_store(upload, folder=folder))
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise
    return stored


def _file_row(model, stored, *, actor, **fields):
    row = model(
        path=stored.path, original_name=stored.original_name, kind=stored.kind, size=stored.size,
        sha256=stored.sha256, uploaded_by=actor if getattr(actor, "is_authenticated", False) else None, **fields,
    )
    clean_or_refuse(row)
    row.save()
    return row


def _with_stored_files(files, folder, body):
    """Stores the files, then runs body(stored) inside a savepoint; if body raises, the files go."""
    from rpms.core.uploads import proof_delete

    stored = _store(list(files or []), folder) if files else []
    try:
        with transaction.atomic():
            return body(stored)
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise


def _department(city, unit, department):
    from rpms.geography.models import Department

    if department is None or department == "":
        raise DomainError("请选择政府相关部门。", code="department_required")
    if not isinstance(department, Department):
        try:
            department = Department.objects.filter(pk=int(department)).first()
        except (TypeError, ValueError):
            department = None
    if (
        department is None
        or department.city_id != city.pk
        or not department.is_active
        or (department.district_id is not None and department.district_id != unit.district_id)
    ):
        raise DomainError("所选部门不存在，或不是本市（本区）的相关部门。", code="invalid_department")
    return department


def _entity_name(actor) -> str:
    return (getattr(actor, "display_name", "") or actor.get_username())[:200]
