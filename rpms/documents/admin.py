from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin

from .models import IssuedDocument


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "title", "city", "holder_name", "status", "issued_at")
    list_filter = ("city", "kind", "status")
    search_fields = ("number", "verification_code", "title", "holder_name", "subject_id")
    date_hierarchy = "issued_at"
    list_select_related = ("city",)
    readonly_fields = [f.name for f in IssuedDocument._meta.fields]
