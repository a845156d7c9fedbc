"""Loading the shipped reference data: every city configuration in data/cities (policy and
geography from data/divisions) and its default responsibility units (one per subdistrict, B4)."""
import json
from pathlib import Path

from django.conf import settings

from rpms.cities.models import City
from rpms.cities.services import city_configure

from .services import divisions_load, units_create_default


def city_files() -> list[Path]:
    return sorted((Path(settings.DATA_DIR) / "cities").glob("*.json"))


def reference_city_load(*, actor, path: Path) -> City:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    city = city_configure(actor=actor, data=data)
    if data.get("geography"):
        divisions_load(actor=actor, city=city, geography=data["geography"])
        units_create_default(actor=actor, city=city)
    return city


def reference_data_load(*, actor=None, codes: list[str] | None = None) -> list[City]:
    cities = []
    for path in city_files():
        if codes is None or path.stem in codes:
            cities.append(reference_city_load(actor=actor, path=path))
    return cities
