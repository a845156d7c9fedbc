"""Notifications: every deadline the system knows, in the in-app inbox and by e-mail, sent once, after commit."""
from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "rpms.notifications"
    label = "notifications"
    verbose_name = "工作提醒"

    def ready(self):
        from rpms.core import hooks

        from .appointment_events import appointment_event_deliver
        from .services import notify

        # Issue #11 item 9: every act on an appointment reaches its parties (P6(2), B25, P6(5), P5(4)).
        hooks.register(hooks.APPOINTMENT_EVENT, appointment_event_deliver)
        # Issue #17 item 8: lower layers' acts a person must hear of (a profile change verified or refused).
        hooks.register(hooks.NOTIFY, notify)
