"""Read-only admin: every change of a duty record, request, certificate, contract or feedback goes
through an audited service; a confirmed duty record is locked (the model refuses it as well)."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    DataMaterial,
    DataRequest,
    DownloadLog,
    DutyEvidence,
    DutyQuery,
    DutyRecord,
    ExtraWork,
    MonitoringFeedback,
    WorkCertificate,
)


class DutyEvidenceInline(ReadOnlyInline):
    model = DutyEvidence
    fields = ("label", "original_name", "kind", "size", "uploaded_at")
    readonly_fields = fields


class DutyQueryInline(ReadOnlyInline):
    model = DutyQuery
    fields = ("question", "asked_by", "asked_at", "answer", "answered_at")
    readonly_fields = fields


@admin.register(DutyRecord)
class DutyRecordAdmin(ReadOnlyAdmin):
    list_display = ("date", "planner", "unit", "category", "hours", "status")
    list_filter = ("city", "status", "category")
    search_fields = ("planner__name", "unit__name", "description")
    list_select_related = ("planner", "unit")
    date_hierarchy = "date"
    inlines = [DutyEvidenceInline, DutyQueryInline]


class DataMaterialInline(ReadOnlyInline):
    model = DataMaterial
    fields = ("label", "original_name", "kind", "size", "is_public", "uploaded_at")
    readonly_fields = fields


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = ("title", "planner", "unit", "addressee", "status", "submitted_at")
    list_filter = ("city", "status", "addressee")
    search_fields = ("title", "planner__name")
    list_select_related = ("planner", "unit")
    inlines = [DataMaterialInline]


@admin.register(DownloadLog)
class DownloadLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user_repr", "material", "is_public", "ip")
    list_filter = ("is_public",)
    list_select_related = ("material",)


@admin.register(WorkCertificate)
class WorkCertificateAdmin(ReadOnlyAdmin):
    list_display = ("planner", "period_start", "period_end", "issuer_name", "record_count", "total_hours", "issued_at")
    list_filter = ("city",)
    list_select_related = ("planner",)
    exclude = ("records",)


@admin.register(ExtraWork)
class ExtraWorkAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "planner", "unit", "fee_yuan", "contract_number", "status")
    list_filter = ("city", "kind", "status")
    search_fields = ("title", "contract_number", "planner__name")
    list_select_related = ("planner", "unit")


@admin.register(MonitoringFeedback)
class MonitoringFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("title", "source", "planner", "unit", "status", "submitted_at")
    list_filter = ("city", "source", "status")
    search_fields = ("title", "planner__name")
    list_select_related = ("planner", "unit")
