"""Continuing education (B23): courses online (B22), attendance and hours credited per year."""
from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "rpms.training"
    label = "training"
    verbose_name = "继续教育与培训"
