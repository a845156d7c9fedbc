from django.contrib import admin

from .models import Case, CasePhoto


class CasePhotoInline(admin.TabularInline):
    model = CasePhoto
    extra = 0
    fields = ("original_name", "caption", "kind", "size", "width", "height")
    readonly_fields = fields
    can_delete = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases are submitted and reviewed through the services (audited), not edited here."""

    list_display = ("title", "city", "district", "planner", "status", "submitted_at", "published_at")
    list_filter = ("city", "status")
    search_fields = ("title", "summary", "planner__name")
    list_select_related = ("city", "district", "planner")
    inlines = [CasePhotoInline]
    readonly_fields = [f.name for f in Case._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
