"""The services: upload (parse, validate, record the report), start, the import in steps, the job."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rpms.accounts.models import User
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core import clock, hooks
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict
from rpms.core.spreadsheet import import_job_enqueue, import_job_steps, import_start_check

from ..models import (
    DossierEvent,
    DossierEventKind,
    Planner,
    PlannerKind,
    PlannerSource,
    PoolStatus,
    RosterImport,
    RosterImportBatch,
    RosterImportStatus,
)
from .reader import COLUMN_BY_KEY, STEP, _declaration_rules, roster_file_read
from .report import _require_manager, roster_import_get
from .validation import pool_id_numbers, roster_rows_validate

IMPORT_CHUNK = 500


# --- services ----------------------------------------------------------------------------------------------


def _article(city) -> str:
    return policy_article(city, STEP)




@transaction.atomic
def roster_import_upload(*, actor, city, uploaded_file, file_name: str = "") -> RosterImport:
    """Reads and validates an uploaded roster and records the report (nothing enters the pool yet).
    A bad file (not .xlsx, wrong headers, empty, too many rows, too large) is refused and nothing saved."""
    _require_manager(actor, city)
    parsed = roster_file_read(uploaded_file, file_name=file_name)
    report = roster_rows_validate(city=city, rows=parsed.rows, numeric_cells=parsed.numeric_cells)
    roster_import = RosterImport(
        city=city,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        file_name=parsed.file_name,
        file_size=parsed.size,
        file_sha256=parsed.sha256,
        status=RosterImportStatus.VALIDATED if report.valid else RosterImportStatus.FAILED,
        total_rows=report.total,
        valid_rows=len(report.valid),
        error_rows=report.error_rows,
        errors=report.errors,
        declarations=[d["code"] for d in _declaration_rules(city.policy)],
    )
    roster_import.full_clean(exclude=["city", "uploaded_by", "started_by"])
    roster_import.save()
    batches = [
        RosterImportBatch(roster_import=roster_import, index=number, rows=report.valid[start: start + IMPORT_CHUNK])
        for number, start in enumerate(range(0, len(report.valid), IMPORT_CHUNK))
    ]
    for batch in batches:
        batch.full_clean(exclude=["roster_import"])
    RosterImportBatch.objects.bulk_create(batches)
    audit_log(
        actor=actor, action="registry.roster_import_upload", obj=roster_import,
        after={"file_name": parsed.file_name, "sha256": parsed.sha256, "total_rows": report.total,
               "valid_rows": len(report.valid), "error_rows": report.error_rows,
               "ignored_headers": parsed.ignored_headers},
        article=_article(city),
        summary=f"上传名册《{parsed.file_name}》：共 {report.total} 行，无误 {len(report.valid)} 行，有误 {report.error_rows} 行"[:255],
    )
    return roster_import


# Foreign keys are known to exist and the large JSON columns were checked at upload: not re-validated.
LIGHT_CLEAN_EXCLUDE = ["city", "uploaded_by", "started_by", "errors", "skipped"]


def _locked(roster_import: RosterImport) -> RosterImport:
    return RosterImport.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=roster_import.pk)


@transaction.atomic
def roster_import_start(*, actor, roster_import: RosterImport, only_valid: bool) -> RosterImport:
    """全部导入 (refused while the file has errors) or 只导入无误的行; the rows are then imported by steps."""
    roster_import = _locked(roster_import)
    _require_manager(actor, roster_import.city)
    import_start_check(roster_import, only_valid=only_valid, noun="名册")
    roster_import.move_to(RosterImportStatus.IMPORTING)
    roster_import.only_valid = bool(only_valid)
    roster_import.started_by = actor if getattr(actor, "is_authenticated", False) else None
    roster_import.started_at = clock.now()
    roster_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    roster_import.save(update_fields=["status", "only_valid", "started_by", "started_at", "updated_at"])
    mode = "只导入无误的行" if only_valid else "全部导入"
    audit_log(
        actor=actor, action="registry.roster_import_start", obj=roster_import,
        before={"status": RosterImportStatus.VALIDATED},
        after={"status": roster_import.status, "only_valid": roster_import.only_valid, "rows": roster_import.valid_rows,
               "error_rows": roster_import.error_rows},
        article=_article(roster_import.city),
        summary=f"开始导入名册《{roster_import.file_name}》（{mode}，{roster_import.valid_rows} 行）"[:255],
    )
    return roster_import


def _actor_name(actor) -> str:
    if not getattr(actor, "is_authenticated", False):
        return "系统"
    return getattr(actor, "display_name", "") or actor.get_username()


@transaction.atomic
def roster_import_step(*, actor, roster_import: RosterImport) -> RosterImport:
    """Imports the next batch of valid rows (IMPORT_CHUNK rows, cut at upload) in one transaction: the
    planners (pool_status active, source import, admitted on the stated date), their districts and an IMPORTED dossier
    event each citing the city's article and the source (file, import, row, who); the events are the
    rows `services.dossier_event_record` writes, created in bulk. A row whose ID number entered the pool since validation is
    skipped and listed. The batch is deleted once imported; the last step marks the import done."""
    roster_import = _locked(roster_import)
    city = roster_import.city
    _require_manager(actor, city)
    # Steps of two imports of one city run one after the other, so the duplicate check below holds.
    list(City.objects.select_for_update().filter(pk=city.pk).values_list("pk", flat=True))
    if roster_import.status == RosterImportStatus.DONE:
        return roster_import
    if roster_import.status != RosterImportStatus.IMPORTING:
        raise Conflict("请先选择“全部导入”或“只导入无误的行”。", code="import_not_started")
    start = roster_import.processed_rows
    batch = roster_import.batches.order_by("index").first()
    chunk = batch.rows if batch is not None else []
    article = _article(city)
    now = clock.now()
    who = _actor_name(actor)
    in_pool = pool_id_numbers(city=city, id_numbers=[row["id_number"] for row in chunk])
    planners, kept, skipped = [], [], []
    for row in chunk:
        if row["id_number"] in in_pool:
            skipped.append({"row": row["row"], "column": COLUMN_BY_KEY["id_number"].header,
                            "message": f"导入时该身份证号对应的责任规划师（{in_pool[row['id_number']]}）已在{city.name}名录中，已跳过。"})
            continue
        planner = Planner(
            city=city, kind=PlannerKind.INDIVIDUAL, name=row["name"], id_number=row["id_number"], mobile=row["mobile"],
            email=row["email"], employer=row["employer"], degree=row["degree"], major=row["major"],
            major_field=row["major_field"], title_level=row["title_level"], title_field=row["title_field"],
            registrations=row["registrations"], experience_years=row["experience_years"], specialties=row["specialties"],
            pool_status=PoolStatus.ACTIVE, source=PlannerSource.IMPORT, admitted_at=_admitted_at(row, now),
        )
        try:
            planner.full_clean(exclude=["city", "user"])
        except ValidationError as exc:
            text = "；".join(f"{m}" for messages in exc.message_dict.values() for m in messages)
            skipped.append({"row": row["row"], "column": "整行", "message": f"数据不符合要求，已跳过：{text}"[:500]})
            continue
        planners.append(planner)
        kept.append(row)
    Planner.objects.bulk_create(planners, batch_size=IMPORT_CHUNK)
    through = Planner.familiar_districts.through
    through.objects.bulk_create(
        [through(planner_id=planner.pk, district_id=district) for planner, row in zip(planners, kept)
         for district in row["districts"]],
        batch_size=IMPORT_CHUNK * 4,
    )
    is_user = getattr(actor, "is_authenticated", False)
    events = []
    for planner, row in zip(planners, kept):
        # The event is the admission the roster records: it occurred on the stated admission date (the import
        # itself is `recorded_at`), so the pool's history (rpms.reports) counts the member from that day.
        event = DossierEvent(
            planner=planner, kind=DossierEventKind.IMPORTED, occurred_at=planner.admitted_at, article=article,
            summary=(f"由既有名册导入：原入库日期 {row.get('admitted_on') or '未填'}，入库依据 {row.get('admission_evidence') or '未填'}；"
                     f"文件《{roster_import.file_name}》第 {row['row']} 行，导入批次 #{roster_import.pk}，经办人 {who}")[:500],
            actor=actor if is_user else None, actor_repr=(actor.get_username() if is_user else "系统")[:150],
            source_type=RosterImport._meta.label_lower, source_id=str(roster_import.pk),
            data={"file_name": roster_import.file_name, "import_id": roster_import.pk, "row": row["row"],
                  "admitted_on": row.get("admitted_on", ""), "admission_evidence": row.get("admission_evidence", ""),
                  "imported_by": who, "imported_by_id": actor.pk if is_user else None,
                  "declarations_confirmed": roster_import.declarations},
        )
        event.full_clean(exclude=["planner", "actor"])
        events.append(event)
    DossierEvent.objects.bulk_create(events, batch_size=IMPORT_CHUNK)
    if planners:
        hooks.rows_written_in_bulk(Planner, city_id=planners[0].city_id)
    before = {"processed_rows": start, "imported_rows": roster_import.imported_rows, "status": roster_import.status}
    roster_import.processed_rows = start + len(chunk)
    roster_import.imported_rows += len(planners)
    roster_import.skipped_rows += len(skipped)
    roster_import.skipped = [*roster_import.skipped, *skipped]
    fields = ["processed_rows", "imported_rows", "skipped_rows", "skipped", "updated_at"]
    if batch is not None:
        batch.delete()  # the planners hold the data now; do not keep personal data twice
    if not roster_import.batches.exists():
        roster_import.move_to(RosterImportStatus.DONE)
        roster_import.finished_at = now
        fields += ["status", "finished_at"]
    roster_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    roster_import.save(update_fields=fields)
    rows = [row["row"] for row in chunk]
    audit_log(
        actor=actor, action="registry.roster_import_step", obj=roster_import, before=before,
        after={"processed_rows": roster_import.processed_rows, "imported_rows": roster_import.imported_rows,
               "status": roster_import.status, "rows": [min(rows), max(rows)] if rows else [],
               "planners": [p.pk for p in planners], "skipped_rows": [s["row"] for s in skipped]},
        article=article,
        summary=(f"名册《{roster_import.file_name}》导入 {len(planners)} 人入库"
                 + (f"，跳过 {len(skipped)} 行" if skipped else "")
                 + ("（导入完成）" if roster_import.status == RosterImportStatus.DONE else ""))[:255],
    )
    return roster_import


def _admitted_at(row: dict, now):
    """The stated admission date (09:00 that day, local time); rows cut before the evidence columns
    existed have none and keep the import time."""
    if not row.get("admitted_on"):
        return now
    day = dt.date.fromisoformat(row["admitted_on"])
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def roster_import_run(*, actor, roster_import: RosterImport, only_valid: bool) -> RosterImport:
    """Starts the import and runs every step (each step its own transaction); an import already under
    way (e.g. begun on the page) is carried on in the mode chosen then."""
    if roster_import.status != RosterImportStatus.IMPORTING:
        roster_import = roster_import_start(actor=actor, roster_import=roster_import, only_valid=only_valid)
    while roster_import.status == RosterImportStatus.IMPORTING:
        roster_import = roster_import_step(actor=actor, roster_import=roster_import)
    return roster_import


def roster_import_job(import_id: int, actor_id: int, *, job) -> dict:
    """Background job (rpms.core.jobs): runs the remaining steps of an import under way as its starter, with
    progress in rows; each step is its own transaction and audit row, as on the page."""
    actor = User.objects.get(pk=actor_id)
    roster_import = roster_import_get(user=actor, import_id=import_id)
    roster_import = import_job_steps(
        roster_import, job=job, step=lambda current: roster_import_step(actor=actor, roster_import=current)
    )
    skipped = f"，{roster_import.skipped_rows} 行导入时跳过" if roster_import.skipped_rows else ""
    return {"message": f"导入完成：{roster_import.imported_rows} 人已入库{skipped}。",
            "imported_rows": roster_import.imported_rows, "skipped_rows": roster_import.skipped_rows}


def roster_import_enqueue(*, actor, roster_import: RosterImport):
    """Queues the steps of a started import as a background job (an import's queued or running job is reused)."""
    from django.urls import reverse

    _require_manager(actor, roster_import.city)
    return import_job_enqueue(
        roster_import, actor=actor, kind="registry.roster_import", label=f"名册导入《{roster_import.file_name}》",
        job_func=roster_import_job, report_url=reverse("registry:import_report", args=[roster_import.pk]),
    )
