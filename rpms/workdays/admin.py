"""Read-mostly: entering or replacing a year goes through the entry page (workdays:year_enter), which
parses the notice, shows a preview and writes the audit row; the admin only shows what was entered."""
from django.contrib import admin

from rpms.core.admin_base import ReadOnlyAdmin, ReadOnlyInline

from .models import CalendarDay, CalendarYear


class CalendarDayInline(ReadOnlyInline):
    model = CalendarDay
    fields = ("date", "kind", "name")
    readonly_fields = fields
    verbose_name = "放假/调休日"
    verbose_name_plural = "放假/调休日"


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyAdmin):
    list_display = ("year", "source", "entered_by", "entered_at")
    search_fields = ("source",)
    readonly_fields = ("year", "source", "notice_text", "entered_by", "entered_at")
    inlines = [CalendarDayInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    list_display = ("date", "kind", "name", "calendar_year")
    list_filter = ("kind", "calendar_year__year")
    date_hierarchy = "date"
    readonly_fields = ("calendar_year", "date", "kind", "name")
