from django.conf import settings
from django.db import models
from django.utils import timezone

from .states import StatusTransitions


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    VALIDATED = "validated", "已校验，待导入"
    IMPORTING = "importing", "导入中"
    DONE = "done", "导入完成"
    FAILED = "failed", "校验未通过（无可导入的行）"


class SpreadsheetImport(StatusTransitions, TimeStampedModel):
    """One upload of a spreadsheet to import (rpms.core.spreadsheet): the file's rows checked, its errors
    per row and column, then the valid rows imported in steps. Concrete imports add their city and
    their batches of validated rows (each batch deleted once imported, so personal data is not kept
    twice); `errors` lists [{row, column, message}] found at validation; `skipped` lists rows refused
    at import time (e.g. entered meanwhile by another route)."""

    TRANSITIONS = {"status": {
        # created VALIDATED or FAILED by the validation; the valid rows are imported in steps
        ImportStatus.UPLOADED: {ImportStatus.VALIDATED, ImportStatus.FAILED},
        ImportStatus.VALIDATED: {ImportStatus.IMPORTING},
        ImportStatus.IMPORTING: {ImportStatus.DONE},
        ImportStatus.DONE: set(),
        ImportStatus.FAILED: set(),
    }}


    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField("文件名", max_length=200)
    file_size = models.PositiveIntegerField("文件大小（字节）", default=0)
    file_sha256 = models.CharField("文件摘要（SHA-256）", max_length=64, blank=True)
    status = models.CharField("状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    valid_rows = models.PositiveIntegerField("无误行数", default=0)
    error_rows = models.PositiveIntegerField("有误行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    imported_rows = models.PositiveIntegerField("已导入行数", default=0)
    skipped_rows = models.PositiveIntegerField("导入时跳过行数", default=0)
    errors = models.JSONField("校验错误", default=list, blank=True)
    skipped = models.JSONField("导入时跳过的行", default=list, blank=True)
    only_valid = models.BooleanField("只导入无误的行", default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField("开始导入时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def has_errors(self) -> bool:
        return self.error_rows > 0

    @property
    def can_import_all(self) -> bool:
        """全部导入: only a file without a single error, not yet started."""
        return self.status == ImportStatus.VALIDATED and not self.has_errors and self.valid_rows > 0

    @property
    def can_import_valid(self) -> bool:
        return self.status == ImportStatus.VALIDATED and self.valid_rows > 0

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(self.processed_rows * 100 / self.valid_rows) if self.valid_rows else 0


class AppendOnlyError(Exception):
    """Raised when anything tries to change or delete an audit row."""


class ActionLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能修改。")

    def delete(self):
        raise AppendOnlyError("操作日志只能追加，不能删除。")

    _raw_delete = delete

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能修改。")

    def bulk_create(self, *args, **kwargs):
        # Each row is sealed into the chain one by one (ActionLog.save); a bulk INSERT would skip it.
        raise AppendOnlyError("操作日志须逐条追加（每条记录计入防篡改校验链）。")


class ActionLog(models.Model):
    """One row per state change, written in the same transaction as the change.

    Append-only: the model, its queryset and database triggers (see migrations 0002 and 0005) refuse
    UPDATE and DELETE, so no role can alter the trail from the UI, the API or the ORM.

    Tamper-evident: `mac` is an SM3 HMAC over the row's other columns and the previous row's `mac`
    (rpms.core.audit_chain), set when the row is inserted; `manage.py audit_verify` and
    GET /api/v1/audit/verify recompute the chain.
    """

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_repr = models.CharField("操作人名称", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    action = models.CharField("动作", max_length=100, db_index=True)
    object_type = models.CharField("对象类型", max_length=100, db_index=True, blank=True)
    object_id = models.CharField("对象编号", max_length=64, db_index=True, blank=True)
    object_repr = models.CharField("对象", max_length=255, blank=True)
    city_code = models.CharField("城市", max_length=32, blank=True, db_index=True)
    article = models.CharField("依据条款", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=255, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    mac = models.CharField("校验值（SM3-HMAC）", max_length=64, blank=True, default="", editable=False)

    objects = ActionLogQuerySet.as_manager()

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="actionlog_object_idx"),
            # The audit list of a city newest first, filtered by action or object type (issue #15); their leading
            # columns also serve the drop-downs' DISTINCT.
            models.Index(fields=["city_code", "-at", "-id"], name="actionlog_city_at_idx"),
            models.Index(fields=["city_code", "action", "-at"], name="actionlog_city_action_idx"),
            models.Index(fields=["city_code", "object_type", "-at"], name="actionlog_city_type_idx"),
        ]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("操作日志只能追加，不能修改。")
        from django.db import router, transaction

        from .audit_chain import seal

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # No savepoint inside the caller's transaction: the append costs one query (the last row's MAC) on SQLite, one
        # call of core_actionlog_chain_next on PostgreSQL, beside its INSERT.
        with transaction.atomic(using=using, savepoint=False):
            seal(self, using)  # its id and its MAC, chained to the last row under the append lock
            kwargs["force_insert"] = True
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能删除。")


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "执行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


# A failed attempt that will be retried goes back to QUEUED; DONE and FAILED are final.
JOB_TRANSITIONS = {
    JobStatus.QUEUED: {JobStatus.RUNNING, JobStatus.FAILED},
    JobStatus.RUNNING: {JobStatus.DONE, JobStatus.FAILED, JobStatus.QUEUED},
    JobStatus.DONE: set(),
    JobStatus.FAILED: set(),
}


class BackgroundJob(StatusTransitions, models.Model):
    """One piece of work run outside the request (rpms.core.jobs): a bulk import, a batch of documents.
    Its actor sees it (and staff of its city), with its progress and its result or error in Chinese.
    `subject_type`/`subject_id` name the record it works on (e.g. "registry.rosterimport", "12").
    E-mails are jobs too but keep their delivery state on the notification (rpms.notifications)."""

    TRANSITIONS = {"status": JOB_TRANSITIONS}


    kind = models.CharField("任务类型", max_length=64, db_index=True)
    label = models.CharField("任务", max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    city_code = models.CharField("城市", max_length=32, blank=True, db_index=True)
    subject_type = models.CharField("对象类型", max_length=100, blank=True)
    subject_id = models.CharField("对象编号", max_length=64, blank=True)
    status = models.CharField("状态", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.PositiveIntegerField("已完成", default=0)
    progress_total = models.PositiveIntegerField("总量", default=0)
    message = models.CharField("结果说明", max_length=500, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    queue_job_id = models.CharField("队列任务编号", max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="backgroundjob_subject_idx")]

    def __str__(self):
        return f"{self.label}（{self.get_status_display()}）"

    def can_move_to(self, status) -> bool:
        return self.can_transition(status)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, int(self.progress_done * 100 / self.progress_total)) if self.progress_total else 0
