"""Read-only admin views: every change goes through rpms.training.services (audited)."""
from django.contrib import admin

from .models import Course, CourseMaterial, Enrolment, TrainingCertificate, TrainingRecord


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingRecord)
class TrainingRecordAdmin(_ReadOnly):
    list_display = ("planner", "year", "date", "source", "title", "hours", "status")
    list_filter = ("city", "year", "source", "status")
    search_fields = ("planner__name", "title")


@admin.register(Course)
class CourseAdmin(_ReadOnly):
    list_display = ("title", "city", "delivery", "hours", "published")
    list_filter = ("city", "published", "delivery")


@admin.register(CourseMaterial)
class CourseMaterialAdmin(_ReadOnly):
    list_display = ("title", "course", "kind", "size")


@admin.register(Enrolment)
class EnrolmentAdmin(_ReadOnly):
    list_display = ("course", "planner", "enrolled_at", "completed_at")


@admin.register(TrainingCertificate)
class TrainingCertificateAdmin(_ReadOnly):
    list_display = ("planner", "year", "total_hours", "document")
