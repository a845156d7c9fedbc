from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin

from .models import Application, Objection, OpenCall, PublicNotice


@admin.register(OpenCall)
class OpenCallAdmin(ReadOnlyAdmin):
    list_display = ("title", "city", "kind", "status", "deadline", "published_at")
    list_filter = ("city", "kind", "status")
    search_fields = ("title",)


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("name", "team_name", "call", "kind", "eligible", "status", "submitted_at")
    list_filter = ("status", "kind", "eligible", "call__city")
    search_fields = ("name", "team_name", "employer")
    exclude = ("id_number", "mobile")  # personal data is not shown here
    list_select_related = ("call",)


@admin.register(PublicNotice)
class PublicNoticeAdmin(ReadOnlyAdmin):
    list_display = ("title", "city", "start", "end", "backdated", "closed_at")
    list_filter = ("city",)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("notice", "entry", "received_at", "resolution", "resolved_at")
    list_filter = ("resolution",)
    exclude = ("contact_phone",)
