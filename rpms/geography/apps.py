"""Geography: districts with their zone types (B13), subdistricts (街道/镇/乡/地区, development zones
and statistical units flagged), loaded from data/divisions for the area a city's scheme covers
(Beijing's 16 districts; Pingdingshan's central urban area, P7), and the responsibility units formed
from them so that the whole city is covered (B4), with their coverage."""
from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "rpms.geography"
    label = "geography"
    verbose_name = "区划与责任单元"
