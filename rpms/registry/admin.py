from django.contrib import admin

from .models import Planner


@admin.register(Planner)
class PlannerAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "kind", "employer", "title_level", "pool_status", "is_fictional")
    list_filter = ("city", "kind", "pool_status", "title_level", "is_fictional")
    search_fields = ("name", "employer")
    exclude = ("id_number",)  # personal data is not shown in lists or forms here

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
