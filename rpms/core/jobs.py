"""Background jobs: work that should not hold a request (e-mail, bulk imports), on RQ via django-rq.

Why RQ (issue #13): one small dependency on the Redis that production already runs for the shared cache,
jobs are plain module-level functions, retries with back-off are built in, and the worker is one process
(`manage.py rqworker default --with-scheduler`; the scheduler moves retries whose interval has passed back
onto the queue).

`enqueue(func, *args, retry_intervals=[60, 300], track=None, **kwargs)` registers the job to start once the
caller's transaction commits (nothing is sent or imported for an act that was rolled back):

- production (`RPMS_JOBS_INLINE` off): the job goes onto the "default" queue; if it raises, RQ runs it again
  after each interval in turn (`Retry(max=len(intervals), interval=intervals)`), then gives up.
- development and tests (`RPMS_JOBS_INLINE` on, the default outside production): the job runs right there,
  after the commit, once — no Redis, no worker. An exception is logged, never a 500.

If the queue cannot be reached (Redis down), the job is not lost silently: the error is logged, a tracked job
is marked failed with a Chinese message, and e-mails stay pending on their notifications until
`manage.py send_pending_emails` (also run by the daily `send_reminders`) queues them again.

A tracked job (`track=job_create(...)`) has a `BackgroundJob` row its actor can follow on the page or through
`GET /api/v1/jobs/{id}`: the function is called with `job=` the row, reports `job_progress(job, done=, total=)`,
and returns its Chinese result message (or a dict with "message" and further result fields). A DomainError
from it fails the job with its message and is not retried (a refusal will not change by trying again).

Job-state writes below are bookkeeping of the machinery, not acts on the institution's records: they write no
audit row (the work a job does — an import's steps — is audited by its own services).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.module_loading import import_string

from . import clock
from .errors import DomainError
from .models import BackgroundJob, JobStatus

logger = logging.getLogger(__name__)

QUEUE_NAME = "default"
QUEUE_DOWN_MESSAGE = "任务队列暂时不可用，任务未能开始，请稍后重试。"


def func_path(func: str | Callable) -> str:
    """The dotted path the worker imports the job by; only module-level functions qualify."""
    if isinstance(func, str):
        return func
    qualname = getattr(func, "__qualname__", "")
    if not qualname or "<" in qualname or "." in qualname:
        raise ValueError(f"a job must be a module-level function, got {func!r}")
    return f"{func.__module__}.{qualname}"


def jobs_inline() -> bool:
    return bool(getattr(settings, "RPMS_JOBS_INLINE", True))


def final_attempt() -> bool:
    """True unless the running job is an RQ job with retries left (inline runs have none)."""
    from rq import get_current_job

    current = get_current_job()
    return current is None or not current.retries_left


def job_create(*, kind: str, label: str, actor=None, city_code: str = "", subject=None, total: int = 0,
               result: dict | None = None) -> BackgroundJob:
    """A tracked job's row, QUEUED; pass it to `enqueue(..., track=job)` in the same transaction."""
    job = BackgroundJob(
        kind=kind[:64], label=label[:200], actor=actor if getattr(actor, "is_authenticated", False) else None,
        city_code=city_code or "", progress_total=max(0, int(total)), result=dict(result or {}),
    )
    if subject is not None:
        job.subject_type = subject._meta.label_lower
        job.subject_id = str(subject.pk)
    job.full_clean(exclude=["actor"])
    job.save()
    return job


def enqueue(func: str | Callable, *args, retry_intervals=None, track: BackgroundJob | None = None,
            after_commit: bool = True, **kwargs) -> None:
    """Runs `func(*args, **kwargs)` as a background job once the current transaction commits (see module).

    `after_commit=False` dispatches at once: only for work that continues state its own services have
    already committed (an import under way), called outside any transaction."""
    path = func_path(func)
    import_string(path)  # a wrong path fails here, in the caller, not later in the worker
    intervals = [int(i) for i in (retry_intervals or []) if int(i) >= 0]
    job_pk = track.pk if track is not None else None
    if after_commit:
        transaction.on_commit(lambda: _dispatch(path, list(args), dict(kwargs), intervals, job_pk))
    else:
        _dispatch(path, list(args), dict(kwargs), intervals, job_pk)


def _dispatch(path: str, args: list, kwargs: dict, intervals: list[int], job_pk: int | None) -> None:
    if jobs_inline():
        try:
            if job_pk is not None:
                run_tracked(job_pk, path, args, kwargs)
            else:
                import_string(path)(*args, **kwargs)
        except Exception:  # noqa: BLE001 - recorded by the job itself; never a 500 in the request
            logger.exception("inline job %s failed", path)
        return
    try:
        import django_rq
        from rq import Retry

        queue = django_rq.get_queue(QUEUE_NAME)
        retry = Retry(max=len(intervals), interval=intervals) if intervals else None
        if job_pk is not None:
            queued = queue.enqueue_call(func=run_tracked, args=(job_pk, path, args, kwargs), retry=retry)
        else:
            queued = queue.enqueue_call(func=path, args=tuple(args), kwargs=kwargs, retry=retry)
    except Exception:  # noqa: BLE001 - Redis down: logged and recorded, not a 500 after the commit
        logger.exception("job queue unavailable: %s was not queued", path)
        if job_pk is not None:
            _finish(job_pk, JobStatus.FAILED, QUEUE_DOWN_MESSAGE)
        return
    if job_pk is not None:
        BackgroundJob.objects.filter(pk=job_pk).update(queue_job_id=str(queued.id)[:64])


def job_progress(job: BackgroundJob, *, done: int, total: int | None = None) -> None:
    """Records how far a tracked job has come (visible at once: the worker runs in autocommit)."""
    job.progress_done = max(0, int(done))
    fields = {"progress_done": job.progress_done}
    if total is not None:
        job.progress_total = max(0, int(total))
        fields["progress_total"] = job.progress_total
    BackgroundJob.objects.filter(pk=job.pk).update(**fields)


def _finish(job_pk: int, status: str, message: str, result: dict | None = None) -> None:
    job = BackgroundJob.objects.get(pk=job_pk)
    if not job.can_move_to(status):
        return
    job.move_to(status)
    job.message = (message or "")[:500]
    if result:
        job.result = {**job.result, **result}
    if status in (JobStatus.DONE, JobStatus.FAILED):
        job.finished_at = clock.now()
    if status == JobStatus.DONE and job.progress_total:
        job.progress_done = job.progress_total
    job.save(update_fields=["status", "message", "result", "finished_at", "progress_done"])


def run_tracked(job_pk: int, path: str, args: list, kwargs: dict):
    """What the worker runs for a tracked job: RUNNING, the function, then DONE or FAILED (or QUEUED again
    while RQ has retries left)."""
    job = BackgroundJob.objects.filter(pk=job_pk).first()
    if job is None or job.is_finished:
        return None
    if job.status == JobStatus.QUEUED:
        BackgroundJob.objects.filter(pk=job_pk).update(
            status=JobStatus.RUNNING, started_at=job.started_at or clock.now(), attempts=F("attempts") + 1, message="",
        )
        job.refresh_from_db()
    try:
        outcome = import_string(path)(*args, job=job, **kwargs)
    except DomainError as exc:
        _finish(job_pk, JobStatus.FAILED, exc.message)
        return None
    except Exception as exc:
        if final_attempt():
            _finish(job_pk, JobStatus.FAILED, f"任务执行出错，已停止：{type(exc).__name__}。请联系系统管理员查看日志。")
        else:
            _finish(job_pk, JobStatus.QUEUED, f"第 {job.attempts} 次执行出错，稍后将自动重试。")
        raise
    if isinstance(outcome, dict):
        outcome = dict(outcome)
        message = str(outcome.pop("message", "") or "")
        _finish(job_pk, JobStatus.DONE, message or "已完成。", outcome)
    else:
        _finish(job_pk, JobStatus.DONE, str(outcome or "已完成。"))
    return None


def _subject_jobs(subject):
    return BackgroundJob.objects.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))


def job_active_for(subject) -> BackgroundJob | None:
    """The queued or running job working on `subject`, if any."""
    return _subject_jobs(subject).filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).order_by("-pk").first()


def job_latest_for(subject) -> BackgroundJob | None:
    return _subject_jobs(subject).order_by("-pk").first()


def job_json(job: BackgroundJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "label": job.label,
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": job.status == JobStatus.DONE,
        "finished": job.is_finished,
        "progress": {"done": job.progress_done, "total": job.progress_total, "percent": job.percent},
        "message": job.message,
        "result": job.result,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
