from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


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


class ActionLog(models.Model):
    """One row per state change, written in the same transaction as the change.

    Append-only: the model, its queryset and database triggers (see migration 0002) refuse
    UPDATE and DELETE, so no role can alter the trail from the UI, the API or the ORM.
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

    objects = ActionLogQuerySet.as_manager()

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="actionlog_object_idx")]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("操作日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("操作日志只能追加，不能删除。")
