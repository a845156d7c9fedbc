from django.contrib import admin

from .admin_base import ReadOnlyAdmin

from .models import ActionLog, BackgroundJob


@admin.register(ActionLog)
class ActionLogAdmin(ReadOnlyAdmin):
    """Closed to everyone, superusers included (issue #16 item 2, 三权分立): the Django superuser is for installation
    only and does not read the audit trail; the audit administrator reads and exports it in the application
    (/audit/, GET /api/v1/audit). Nobody changes or deletes it (append-only, sealed by its SM3 HMAC chain)."""

    def has_module_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return False

    list_display = ("at", "actor_repr", "ip", "action", "object_type", "object_id", "object_repr", "city_code", "article", "summary")
    list_filter = ("city_code", "action", "object_type")
    search_fields = ("actor_repr", "action", "object_type", "object_id", "object_repr", "summary", "article")
    date_hierarchy = "at"
    ordering = ("-at", "-id")
    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) over the whole trail on every page is wasteful
    actions = None
    readonly_fields = [field.name for field in ActionLog._meta.fields]


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyAdmin):
    """Background jobs (rpms.core.jobs): read-only, their state is the machinery's."""

    list_display = ("created_at", "label", "kind", "actor", "city_code", "status", "progress_done", "progress_total",
                    "attempts", "finished_at", "message")
    list_filter = ("status", "kind", "city_code")
    search_fields = ("label", "kind", "message", "subject_id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in BackgroundJob._meta.fields]


# django-rq registers its queue dashboard (English pages that read Redis directly); job state is shown in
# Chinese by BackgroundJob instead, and operators use `manage.py rqstats`.
from django_rq.models import Dashboard  # noqa: E402

if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
