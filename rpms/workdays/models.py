"""Administrator-entered holiday schedules (国务院办公厅关于20XX年部分节假日安排的通知) for years the
`holidays` package does not (yet) cover. An entered year overrides the package for that year."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

# Years an administrator may enter; a sanity bound, not a policy.
MIN_YEAR = 2000
MAX_YEAR = 2100


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(
        "年度", unique=True, validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]
    )
    source = models.CharField("依据文件", max_length=200, help_text="例如：国办发明电〔2026〕X号")
    notice_text = models.TextField("通知原文")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间", default=timezone.now)

    class Meta:
        verbose_name = "录入的年度节假日安排"
        verbose_name_plural = "录入的年度节假日安排"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year} 年节假日安排（{self.source}）"


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "放假"
        WORKDAY = "workday", "调休上班"

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name="年度安排", on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    name = models.CharField("节日名称", max_length=50, blank=True)

    class Meta:
        verbose_name = "录入的放假/调休日"
        verbose_name_plural = "录入的放假/调休日"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()
