"""Assessment (B20, P6(4)), its consequences, violations (B16, B17), the city's assessment of districts (B20) and honours (B24)."""
from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "rpms.assessments"
    label = "assessments"
    verbose_name = "考核与表彰"

    def ready(self):
        from rpms.core import hooks, pending

        from . import reminders
        from .selectors import grade_scores, latest_grade_code, pending_items, renewal_refusal, term_reviews

        pending.register(pending_items)
        # P6(4): renewal (rpms.appointments, a lower layer) asks for the current term's review.
        hooks.register(hooks.TERM_REVIEWS, term_reviews)
        # The latest grade, read by renewal (rpms.appointments) and by matching (rpms.dispatch), lower layers.
        hooks.register(hooks.LATEST_GRADE, latest_grade_code)
        hooks.register(hooks.RENEWAL_REFUSAL, renewal_refusal)
        hooks.register(hooks.GRADE_SCORES, grade_scores)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
