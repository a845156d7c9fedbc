"""Module-level job functions for the tests of rpms.core.jobs (a job must be importable by its path)."""
from rpms.core.errors import DomainError
from rpms.core.jobs import job_progress

CALLS: list = []


def record(*args, **kwargs):
    CALLS.append((args, kwargs))


def explode(*args, **kwargs):
    raise RuntimeError("boom")


def counted(total, *, job):
    for done in range(1, total + 1):
        job_progress(job, done=done, total=total)
        CALLS.append(("step", done, job.pk))
    return {"message": f"已处理 {total} 项。", "url": "/somewhere/"}


def refused(*, job):
    raise DomainError("该名册当前不能导入。", code="import_not_ready")


def crashing(*, job):
    raise RuntimeError("database went away")
