from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin

from .models import City, PolicyProfile

# Changes go through the audited services (the policy page, configure_city).


@admin.register(City)
class CityAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "rulebook_title", "division_code", "is_active")


@admin.register(PolicyProfile)
class PolicyProfileAdmin(ReadOnlyAdmin):
    list_display = ("city", "version", "notice_working_days", "renewal_years_min", "renewal_years_max", "max_units_per_planner", "updated_at")
