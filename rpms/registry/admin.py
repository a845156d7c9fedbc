from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import DossierEvent, Planner, TeamMember


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
