"""Written opinions (书面意见, B11(3), P3(2)): independent, immutable once issued, versioned, verifiable."""
from django.apps import AppConfig


class OpinionsConfig(AppConfig):
    name = "rpms.opinions"
    label = "opinions"
    verbose_name = "书面意见"
