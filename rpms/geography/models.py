from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from rpms.core.models import TimeStampedModel


class District(models.Model):
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.CASCADE, related_name="districts")
    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    zone_type = models.CharField("功能区类型", max_length=32, blank=True, help_text="取自城市政策配置 zone_types 的代码")
    is_development_zone = models.BooleanField("开发区/管委会", default=False)
    sort_order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "区"
        verbose_name_plural = "区"
        ordering = ["city", "sort_order", "code"]

    def __str__(self):
        return self.name


class SubdistrictKind(models.TextChoices):
    STREET = "street", "街道"
    TOWN = "town", "镇"
    TOWNSHIP = "township", "乡"
    AREA = "area", "地区"
    PARK = "park", "园区/开发区"
    OTHER = "other", "其他（统计单元等）"


class Subdistrict(models.Model):
    district = models.ForeignKey(District, verbose_name="所属区", on_delete=models.CASCADE, related_name="subdistricts")
    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=SubdistrictKind.choices)
    is_development_zone = models.BooleanField("开发区/园区", default=False)
    is_statistical = models.BooleanField("统计单元（非建制）", default=False)
    zone_type_override = models.CharField(
        "功能区类型（单独指定）", max_length=32, blank=True, help_text="留空则沿用所属区的功能区类型"
    )

    class Meta:
        verbose_name = "街道乡镇"
        verbose_name_plural = "街道乡镇"
        ordering = ["district", "code"]

    def __str__(self):
        return self.name

    @property
    def zone_type(self) -> str:
        return self.zone_type_override or self.district.zone_type


class ResponsibilityUnit(TimeStampedModel):
    """B4: one or more subdistricts of one district served together."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.CASCADE, related_name="units")
    district = models.ForeignKey(District, verbose_name="所属区", on_delete=models.PROTECT, related_name="units")
    name = models.CharField("名称", max_length=200)
    dissolved_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "责任单元"
        verbose_name_plural = "责任单元"
        ordering = ["district__sort_order", "district__code", "name", "id"]
        indexes = [models.Index(fields=["city", "dissolved_at"], name="unit_city_active_idx")]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.dissolved_at is None

    def clean(self):
        if self.district_id and self.city_id and self.district.city_id != self.city_id:
            raise ValidationError({"district": "责任单元所属区必须属于同一城市。"})

    @property
    def current_subdistricts(self) -> list["Subdistrict"]:
        """The subdistricts of the open memberships. Selectors prefetch them as `active_memberships`;
        without the prefetch this costs one query."""
        memberships = getattr(self, "active_memberships", None)
        if memberships is None:
            memberships = self.memberships.filter(left_at__isnull=True).select_related("subdistrict")
        return sorted((m.subdistrict for m in memberships), key=lambda s: s.code)


class UnitMembership(models.Model):
    """A subdistrict's membership of a unit; the open ones (left_at is null) are current."""

    unit = models.ForeignKey(
        ResponsibilityUnit, verbose_name="责任单元", on_delete=models.CASCADE, related_name="memberships"
    )
    subdistrict = models.ForeignKey(
        Subdistrict, verbose_name="街道乡镇", on_delete=models.PROTECT, related_name="memberships"
    )
    joined_at = models.DateTimeField("加入时间")
    left_at = models.DateTimeField("退出时间", null=True, blank=True)

    class Meta:
        verbose_name = "责任单元组成"
        verbose_name_plural = "责任单元组成"
        ordering = ["joined_at", "id"]
        constraints = [
            # B4: a subdistrict belongs to at most one active unit, enforced by the database.
            models.UniqueConstraint(
                fields=["subdistrict"], condition=Q(left_at__isnull=True), name="one_active_unit_per_subdistrict"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("joined_at")), name="membership_left_after_joined"
            ),
        ]

    def __str__(self):
        return f"{self.subdistrict} → {self.unit}"


class Department(TimeStampedModel):
    """A government department that receives planners' opinions, forwarded suggestions and monitoring
    feedback (B11(3), B11(6), P3(2)): city-level (district empty) or a district's. Departments do not log
    in; their answers are recorded by the officer or planner who received them."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="departments")
    district = models.ForeignKey(
        District, verbose_name="所在区", on_delete=models.PROTECT, null=True, blank=True, related_name="departments",
        help_text="市级部门留空",
    )
    name = models.CharField("部门名称", max_length=100)
    contact = models.CharField("联系方式（办公电话或地址）", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "相关部门"
        verbose_name_plural = "相关部门"
        ordering = ["city", "district__sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["city", "district", "name"], name="department_unique_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.district_id and self.city_id and self.district.city_id != self.city_id:
            raise ValidationError({"district": "所在区须属于本市。"})
