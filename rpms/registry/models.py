from django.conf import settings
from django.db import models

from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core.models import TimeStampedModel


class PlannerKind(models.TextChoices):
    INDIVIDUAL = "individual", "个人"
    TEAM = "team", "团队"


class PoolStatus(models.TextChoices):
    CANDIDATE = "candidate", "待入库"
    ACTIVE = "active", "在库"
    REMOVED = "removed", "已调出"


class Planner(TimeStampedModel):
    """A responsible planner (individual) or team in a city's registry / resource pool.

    Personal data (ID number, mobile) is never shown on public pages; see rpms.core.masking."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="planners")
    kind = models.CharField("类型", max_length=16, choices=PlannerKind.choices, default=PlannerKind.INDIVIDUAL)
    name = models.CharField("姓名/团队名称", max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="登录账户", null=True, blank=True, on_delete=models.SET_NULL, related_name="planner"
    )
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    mobile = models.CharField("手机号", max_length=11, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    employer = models.CharField("工作单位", max_length=200, blank=True)
    degree = models.CharField("学历", max_length=20, choices=DegreeLevel.choices, default=DegreeLevel.NONE)
    major = models.CharField("专业", max_length=100, blank=True)
    major_field = models.CharField("专业领域代码", max_length=50, blank=True)
    title_level = models.CharField("职称等级", max_length=20, choices=TitleLevel.choices, default=TitleLevel.NONE)
    title_field = models.CharField("职称专业领域代码", max_length=50, blank=True)
    registrations = models.JSONField("执业资格", default=list, blank=True)
    experience_years = models.PositiveSmallIntegerField("相关工作年限", default=0)
    specialties = models.JSONField("擅长专业领域", default=list, blank=True)
    familiar_districts = models.ManyToManyField(
        "geography.District", verbose_name="熟悉的区", blank=True, related_name="familiar_planners"
    )
    pool_status = models.CharField("入库状态", max_length=16, choices=PoolStatus.choices, default=PoolStatus.CANDIDATE)
    admitted_at = models.DateTimeField("入库时间", null=True, blank=True)
    is_fictional = models.BooleanField("演示数据（虚构）", default=False)

    class Meta:
        verbose_name = "责任规划师"
        verbose_name_plural = "责任规划师"
        ordering = ["city", "name", "id"]

    def __str__(self):
        return self.name
