"""Continuing education (B23) and online training (B22).

- `TrainingRecord`: hours credited to a planner for a year — from a course completed here (`course`),
  practice (基层实践) or external training. Only CONFIRMED records count (`training_hours`); a planner's own
  declaration waits for the city administrator's confirmation; a course completion is confirmed when it
  happens. A course is credited once per planner (unique constraint).
- `Course` with its `CourseMaterial` files (PDF documents, MP4/WebM videos) stored privately and served by
  a permission-checked view with HTTP Range support; `Enrolment` and `MaterialProgress` record attendance
  (a material opened, then marked studied) and completion.
- `TrainingCertificate`: a year's certificate (继续教育学时证明) issued as a document with a verification
  code (rpms.documents)."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class TrainingSource(models.TextChoices):
    COURSE = "course", "培训课程"
    PRACTICE = "practice", "基层实践"
    EXTERNAL = "external", "外部培训"


class RecordStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "未予确认"


class CourseDelivery(models.TextChoices):
    ONLINE = "online", "线上自学（学完全部材料即完成）"
    LIVE = "live", "现场或直播授课（由市级管理员确认出勤）"


class MaterialKind(models.TextChoices):
    DOCUMENT = "document", "文档（PDF）"
    VIDEO = "video", "视频"


class Course(TimeStampedModel):
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="courses")
    title = models.CharField("课程名称", max_length=200)
    description = models.TextField("课程简介", blank=True)
    hours = models.DecimalField("认定学时", max_digits=5, decimal_places=1)
    delivery = models.CharField("授课方式", max_length=10, choices=CourseDelivery.choices, default=CourseDelivery.ONLINE)
    session_on = models.DateField("授课日期", null=True, blank=True)
    place = models.CharField("地点或直播方式", max_length=200, blank=True)
    published = models.BooleanField("已发布", default=False)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "培训课程"
        verbose_name_plural = "培训课程"
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="course_hours_positive"),
        ]

    def __str__(self):
        return self.title


class CourseMaterial(TimeStampedModel):
    course = models.ForeignKey(Course, verbose_name="课程", on_delete=models.CASCADE, related_name="materials")
    title = models.CharField("材料名称", max_length=200)
    kind = models.CharField("类型", max_length=10, choices=MaterialKind.choices)
    path = models.CharField("存储路径", max_length=300)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("内容类型", max_length=50)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "课程材料"
        verbose_name_plural = "课程材料"
        ordering = ["course", "sort_order", "id"]

    def __str__(self):
        return self.title

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'


class TrainingRecord(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": {
        RecordStatus.PENDING: {RecordStatus.CONFIRMED, RecordStatus.REJECTED},  # (a pending claim may be withdrawn: deleted)
        RecordStatus.CONFIRMED: set(),
        RecordStatus.REJECTED: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="training_records")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="training_records"
    )
    year = models.PositiveSmallIntegerField("计入年度", db_index=True)
    hours = models.DecimalField("学时", max_digits=6, decimal_places=1)
    source = models.CharField("来源", max_length=10, choices=TrainingSource.choices)
    title = models.CharField("名称", max_length=200)
    date = models.DateField("日期")
    provider = models.CharField("组织单位", max_length=200, blank=True)
    description = models.TextField("说明", blank=True)
    course = models.ForeignKey(
        Course, verbose_name="课程", null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    status = models.CharField("状态", max_length=10, choices=RecordStatus.choices, default=RecordStatus.PENDING)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="为空且已确认：完成线上课程全部材料后由系统确认",
    )
    rejected_reason = models.CharField("未予确认理由", max_length=500, blank=True)
    evidence_path = models.CharField("证明材料路径", max_length=300, blank=True)
    evidence_name = models.CharField("证明材料文件名", max_length=255, blank=True)
    evidence_size = models.PositiveIntegerField("证明材料大小", null=True, blank=True)
    evidence_sha256 = models.CharField("证明材料 SHA-256", max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "继续教育学时"
        verbose_name_plural = "继续教育学时"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["planner", "year", "status"], name="training_planner_year_idx")]
        constraints = [
            # A course is credited once to a planner.
            models.UniqueConstraint(fields=["planner", "course"], condition=Q(course__isnull=False),
                                    name="one_training_record_per_course"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive"),
            models.CheckConstraint(condition=Q(source="course") | Q(course__isnull=True), name="training_course_source"),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False), name="training_confirmed_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.planner} {self.year} 年 {self.title}（{self.hours} 学时）"

    @property
    def is_credited(self) -> bool:
        return self.status == RecordStatus.CONFIRMED

    @property
    def confirmed_by_label(self) -> str:
        if self.status != RecordStatus.CONFIRMED:
            return ""
        if self.confirmed_by_id:
            return str(self.confirmed_by)
        return "系统（已学完线上课程全部材料）"


class Enrolment(TimeStampedModel):
    course = models.ForeignKey(Course, verbose_name="课程", on_delete=models.PROTECT, related_name="enrolments")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="course_enrolments"
    )
    enrolled_at = models.DateTimeField("报名时间")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="出勤确认人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    record = models.OneToOneField(
        TrainingRecord, verbose_name="学时记录", null=True, blank=True, on_delete=models.PROTECT, related_name="enrolment"
    )

    class Meta:
        verbose_name = "课程报名"
        verbose_name_plural = "课程报名"
        ordering = ["course", "enrolled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "planner"], name="one_enrolment_per_course_planner"),
            models.CheckConstraint(condition=Q(completed_at__isnull=True) | Q(record__isnull=False),
                                   name="enrolment_completed_has_record"),
        ]

    def __str__(self):
        return f"{self.planner} · {self.course}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class MaterialProgress(models.Model):
    enrolment = models.ForeignKey(Enrolment, verbose_name="报名", on_delete=models.CASCADE, related_name="progress")
    material = models.ForeignKey(CourseMaterial, verbose_name="材料", on_delete=models.CASCADE, related_name="progress")
    opened_at = models.DateTimeField("首次打开", null=True, blank=True)
    finished_at = models.DateTimeField("学完时间", null=True, blank=True)

    class Meta:
        verbose_name = "学习进度"
        verbose_name_plural = "学习进度"
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "material"], name="one_progress_per_material"),
        ]

    def __str__(self):
        return f"{self.enrolment} · {self.material}"


class TrainingCertificate(TimeStampedModel):
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="training_certificates")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="training_certificates"
    )
    year = models.PositiveSmallIntegerField("年度")
    total_hours = models.DecimalField("合计学时", max_digits=7, decimal_places=1)
    record_ids = models.JSONField("计入的学时记录", default=list)
    document = models.OneToOneField(
        "documents.IssuedDocument", verbose_name="文书", on_delete=models.PROTECT, related_name="training_certificate"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="出具经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "继续教育学时证明"
        verbose_name_plural = "继续教育学时证明"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.planner} {self.year} 年继续教育学时证明"
