"""Continuing education (B23): courses online (B22), attendance and hours credited per year, the
year's certificate. Articles are cited from each city's policy (`policy_article(city, step)`):
course (courses, materials, enrolment, completion) and training (hours records, certificates)."""
from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "rpms.training"
    label = "training"
    verbose_name = "继续教育与培训"

    def ready(self):
        from rpms.core import pending

        from .pending import training_pending

        pending.register(training_pending)
