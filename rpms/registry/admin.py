from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin

from .models import Planner


@admin.register(Planner)
class PlannerAdmin(ReadOnlyAdmin):
    list_display = ("name", "city", "kind", "employer", "title_level", "pool_status", "is_fictional")
    list_filter = ("city", "kind", "pool_status", "title_level", "is_fictional")
    search_fields = ("name", "employer")
    exclude = ("id_number",)  # personal data is not shown in lists or forms here
