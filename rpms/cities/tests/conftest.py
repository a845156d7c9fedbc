import json

import pytest
from django.conf import settings

from rpms.cities.services import city_configure


def city_document(code: str) -> dict:
    return json.loads((settings.DATA_DIR / "cities" / f"{code}.json").read_text(encoding="utf-8"))


@pytest.fixture
def policy_cities(db):
    """Both shipped cities with their policies (no geography: these tests don't need it)."""
    return {code: city_configure(actor=None, data=city_document(code)) for code in ("beijing", "pingdingshan")}
