from django.contrib import admin

from .models import City, PolicyProfile


class ReadOnlyAdmin(admin.ModelAdmin):
    """Changes go through the audited services (the policy page, configure_city)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(City)
class CityAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "rulebook_title", "division_code", "is_active")


@admin.register(PolicyProfile)
class PolicyProfileAdmin(ReadOnlyAdmin):
    list_display = ("city", "version", "notice_working_days", "renewal_years_min", "renewal_years_max", "max_units_per_planner", "updated_at")
