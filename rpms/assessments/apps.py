"""Assessment (B20, P6(4)), its consequences, violations (B16, B17), the city's assessment of districts (B20) and honours (B24)."""
from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "rpms.assessments"
    label = "assessments"
    verbose_name = "考核与表彰"

    def ready(self):
        from rpms.core import hooks, pending

        from . import reminders
        from .selectors import pending_items, term_reviews

        pending.register(pending_items)
        # P6(4): renewal (rpms.appointments, a lower layer) asks for the current term's review.
        hooks.register(hooks.TERM_REVIEWS, term_reviews)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
