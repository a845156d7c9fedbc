"""Geography: districts with their zone types (B13), subdistricts (街道/镇/乡/地区), and
responsibility units formed from them so that the whole city is covered (B4)."""
from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "rpms.geography"
    label = "geography"
    verbose_name = "区划与责任单元"
