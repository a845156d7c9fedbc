"""Documents: issued papers (dispatch notices, certificates, contracts, opinions, work certificates)
rendered as PDF, each with a verification code and a QR code of its absolute verification address
the public can check; verification follows the appointment a document is about (issue #11)."""
from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "rpms.documents"
    label = "documents"
    verbose_name = "文书与核验"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment check of RPMS_PUBLIC_BASE_URL)
