"""Kept annual statistics (issue #15): a finished year's figures are computed once and kept here, per city,
year and scope (the districts reported and whether the city-level topics are included); a write to any of
the year's inputs marks the row stale (rpms.reports.snapshots) and the next read recomputes it."""
from django.db import models


class AnnualStatisticsSnapshot(models.Model):
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("统计年度")
    scope_key = models.CharField("统计范围", max_length=255,
                                 help_text="全市，或所报各区的编号及是否含全市口径指标")
    data = models.JSONField("统计结果", default=dict)
    computed_at = models.DateTimeField("计算时间")
    computed_on = models.DateField("计算日期", help_text="计算时的“今日”（逾期、待审批等截至今日的指标以此为准）")
    valid_until = models.DateField("有效至", null=True, blank=True,
                                   help_text="截至今日的指标（逾期未答复、逾期未付等）最早可能变化前的最后一天；空为不随日期变化")
    source_version = models.PositiveIntegerField("计算口径版本", default=1,
                                                 help_text="统计程序的口径版本；与程序不一致时重新计算")
    city_generation = models.PositiveIntegerField("城市数据版本", default=0)
    year_generation = models.PositiveIntegerField("年度数据版本", default=0)
    stale = models.BooleanField("待重新计算", default=False)

    class Meta:
        verbose_name = "年度统计结果"
        verbose_name_plural = "年度统计结果"
        constraints = [
            models.UniqueConstraint(fields=["city", "year", "scope_key"], name="stats_snapshot_unique_scope"),
        ]

    def __str__(self):
        return f"{self.city_id} {self.year} {self.scope_key}"
