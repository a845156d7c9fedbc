from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import DossierEvent, Planner, RosterImport, TeamMember


class TeamMemberInline(ReadOnlyInline):
    model = TeamMember
    fk_name = "planner"
    fields = ("name", "specialty", "is_core")


class DossierEventInline(ReadOnlyInline):
    model = DossierEvent
    fields = ("occurred_at", "kind", "article", "summary", "actor_repr")


@admin.register(Planner)
class PlannerAdmin(ReadOnlyAdmin):
    list_display = ("name", "city", "kind", "employer", "title_level", "pool_status", "source", "is_fictional")
    list_filter = ("city", "kind", "pool_status", "source", "title_level", "is_fictional")
    search_fields = ("name", "employer")
    exclude = ("id_number", "mobile")  # personal data is not shown in lists or forms here
    inlines = [TeamMemberInline, DossierEventInline]


@admin.register(DossierEvent)
class DossierEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "planner", "kind", "article", "summary", "actor_repr")
    list_filter = ("kind",)
    search_fields = ("planner__name", "summary")
    list_select_related = ("planner",)


@admin.register(RosterImport)
class RosterImportAdmin(ReadOnlyAdmin):
    list_display = ("pk", "file_name", "city", "status", "total_rows", "valid_rows", "error_rows", "imported_rows",
                    "uploaded_by", "created_at", "finished_at")
    list_filter = ("city", "status")
    search_fields = ("file_name",)
    list_select_related = ("city", "uploaded_by")
    # The rows waiting to be imported (RosterImportBatch) carry personal data and are not shown here.
