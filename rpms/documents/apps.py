"""Documents: issued papers (dispatch notices, certificates, contracts, opinions, work certificates)
rendered as PDF, each with a verification code the public can check."""
from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "rpms.documents"
    label = "documents"
    verbose_name = "文书与核验"
