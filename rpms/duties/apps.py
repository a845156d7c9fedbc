"""Duties: duty records (B11, P3) with the hiring entity's confirmation, the zone-type focus they serve
(B13), data requests and confidential materials (B14(3), B16(1)), work certificates (B14(4)), extra
contracted work (B12) and monitoring feedback (B11(6)). Articles are cited from each city's policy
(`policy_article(city, step)`): duty_record, duty_confirm, data_request, confidential_material,
work_certificate, extra_work, monitoring_feedback."""
from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "rpms.duties"
    label = "duties"
    verbose_name = "履职管理"

    def ready(self):
        from rpms.core import pending

        from .pending import duties_pending

        pending.register(duties_pending)
