"""Test data and helpers shared by the geography tests."""
from rpms.accounts.models import User
from rpms.geography.models import Subdistrict

BEIJING_ZONE_TYPES = [
    {"code": "core", "article": "B13", "label": "首都功能核心区", "focus": ["服务保障中央政务", "历史文化街区保护"]},
    {"code": "central", "article": "B13", "label": "中心城区", "focus": ["疏解非首都功能", "城市更新"]},
    {"code": "sub_centre", "article": "B13", "label": "城市副中心", "focus": ["城市副中心建设"]},
    {"code": "multi_point", "article": "B13", "label": "多点地区", "focus": ["承接中心城区功能疏解", "新城建设"]},
    {"code": "eco_conservation", "article": "B13", "label": "生态涵养区", "focus": ["生态保护", "美丽乡村建设"]},
]

BEIJING_ZONES_BY_DISTRICT = {
    "110101": "core", "110102": "core",
    "110105": "central", "110108": "central", "110106": "central", "110107": "central",
    "110112": "sub_centre",
    "110113": "multi_point", "110115": "multi_point", "110114": "multi_point", "110111": "multi_point",
    "110109": "eco_conservation", "110117": "eco_conservation", "110116": "eco_conservation",
    "110118": "eco_conservation", "110119": "eco_conservation",
}

BEIJING_GEOGRAPHY = {
    "division_code": "1101",
    "districts": [{"code": code, "zone_type": zone} for code, zone in BEIJING_ZONES_BY_DISTRICT.items()],
    "subdistrict_zone_overrides": {},
}

PINGDINGSHAN_GEOGRAPHY = {
    "division_code": "4104",
    "districts": [{"code": code, "zone_type": ""} for code in ("410402", "410403", "410404", "410411", "410471", "410472")],
    "subdistrict_zone_overrides": {},
}

HAIDIAN, CHAOYANG = "110108", "110105"


def subdistricts_of(district, count):
    return list(Subdistrict.objects.filter(district=district).order_by("code")[:count])


def make_user(username, role, city, districts=()):
    user = User.objects.create_user(username=username, password="Pass-word-1234", role=role, city=city)
    if districts:
        user.districts.set(districts)
    return user
