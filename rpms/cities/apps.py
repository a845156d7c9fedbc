"""Cities and their policy profiles: every number and list of a city's rule book held as data
(B13, B18, B19, B11, P3–P6), so a third city is configured without code."""
from django.apps import AppConfig


class CitiesConfig(AppConfig):
    name = "rpms.cities"
    label = "cities"
    verbose_name = "城市与政策配置"
