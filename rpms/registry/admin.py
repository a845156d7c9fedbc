from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import DossierEvent, LimitException, Planner, RosterImport, TeamMember


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


@admin.register(LimitException)
class LimitExceptionAdmin(ReadOnlyAdmin):
    """Exceptions to in-principle limits (B18, B19(2), B19(7)); decided on the pages, never edited here."""

    list_display = ("pk", "city", "limit", "act", "subject_label", "value", "limit_value", "status", "requested_by",
                    "requested_at", "decided_by", "decided_at")
    list_filter = ("city", "limit", "status", "act")
    search_fields = ("subject_label", "reason")
    list_select_related = ("city", "requested_by", "decided_by")
    exclude = ("payload",)  # the act's arguments, for performing it on approval
