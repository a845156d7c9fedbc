"""Notifications: every deadline the system knows, in the in-app inbox and by e-mail, sent once, after commit."""
from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "rpms.notifications"
    label = "notifications"
    verbose_name = "工作提醒"
