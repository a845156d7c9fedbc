"""Read-mostly: entering or replacing a year goes through the entry page (workdays:year_enter), which
parses the notice, shows a preview and writes the audit row; the admin only shows what was entered."""
from django.contrib import admin

from .models import CalendarDay, CalendarYear


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    fields = ("date", "kind", "name")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "放假/调休日"
    verbose_name_plural = "放假/调休日"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "entered_by", "entered_at")
    search_fields = ("source",)
    readonly_fields = ("year", "source", "notice_text", "entered_by", "entered_at")
    inlines = [CalendarDayInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name", "calendar_year")
    list_filter = ("kind", "calendar_year__year")
    date_hierarchy = "date"
    readonly_fields = ("calendar_year", "date", "kind", "name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
