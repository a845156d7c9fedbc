"""Public information services (B22): announcements, policy documents and interpretations, the coverage map (B4), open data."""
from django.apps import AppConfig


class PublicinfoConfig(AppConfig):
    name = "rpms.publicinfo"
    label = "publicinfo"
    verbose_name = "公开信息服务"
