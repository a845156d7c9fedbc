from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import Announcement, AnnouncementAttachment, Interpretation


class AttachmentInline(ReadOnlyInline):
    model = AnnouncementAttachment
    fields = ("label", "original_name", "kind", "size", "uploaded_at")
    readonly_fields = fields


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin):
    list_display = ("title", "city", "kind", "status", "publish_on", "published_at")
    list_filter = ("city", "kind", "status")
    search_fields = ("title",)
    inlines = [AttachmentInline]


@admin.register(Interpretation)
class InterpretationAdmin(ReadOnlyAdmin):
    list_display = ("title", "city", "status", "published_at")
    list_filter = ("city", "status")
    search_fields = ("title",)
