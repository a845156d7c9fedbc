"""Read-only admin: written opinions change only through the audited services, and an issued one
never changes at all (the model refuses it as well)."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import OpinionAttachment, OpinionReceipt, OpinionResponse, WrittenOpinion


class AttachmentInline(ReadOnlyInline):
    model = OpinionAttachment
    fields = ("title", "original_name", "kind", "size", "sha256", "uploaded_at")
    readonly_fields = fields


class ResponseInline(ReadOnlyInline):
    model = OpinionResponse
    fields = ("responder", "responder_name", "outcome", "reasons", "responded_on", "recorded_by", "recorded_at")
    readonly_fields = fields


class ReceiptInline(ReadOnlyInline):
    model = OpinionReceipt
    fields = ("user", "read_at")
    readonly_fields = fields


@admin.register(WrittenOpinion)
class WrittenOpinionAdmin(ReadOnlyAdmin):
    list_display = ("title", "version", "unit", "planner", "status", "issued_at", "document")
    list_filter = ("city", "status", "subject_kind")
    search_fields = ("title", "subject", "developer", "design_unit", "planner__name", "document__number")
    list_select_related = ("unit", "planner", "document")
    readonly_fields = [f.name for f in WrittenOpinion._meta.fields] + ["departments"]
    inlines = [AttachmentInline, ResponseInline, ReceiptInline]
