from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by notify() and the daily reminders, never by hand."""

    list_display = ("created_at", "recipient", "event", "title", "read_at", "emailed_at", "email_attempts", "email_failed_at")
    list_filter = ("event", "city")
    search_fields = ("title", "key", "recipient__username")
    list_select_related = ("recipient", "city")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
