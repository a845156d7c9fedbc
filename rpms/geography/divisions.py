"""Reading the shipped division tables (data/divisions, NBS 统计用区划代码 2023; provenance in its README)
and classifying township-level rows. Pure functions, no database: the services decide what to write."""
import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .models import SubdistrictKind

# Names of development zones, parks and bases among the NBS 400-series ("类似乡级单位") and among
# county-level rows (平顶山高新技术产业开发区, 城乡一体化示范区).
DEVELOPMENT_ZONE_MARKERS = ("开发区", "园区", "基地", "示范区", "高新")

# Name endings of constituted township-level divisions, longest first ("地区" before "区").
_KIND_BY_SUFFIX = (
    ("地区", SubdistrictKind.AREA),
    ("街道", SubdistrictKind.STREET),
    ("镇", SubdistrictKind.TOWN),
    ("乡", SubdistrictKind.TOWNSHIP),
)


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    parent_code: str


@dataclass(frozen=True)
class Classification:
    kind: str
    is_development_zone: bool
    is_statistical: bool


def divisions_dir() -> Path:
    return Path(settings.DATA_DIR) / "divisions"


def _read(path: Path, parent_column: str) -> tuple[DivisionRow, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            DivisionRow(code=row["code"].strip(), name=row["name"].strip(), parent_code=row[parent_column].strip())
            for row in csv.DictReader(handle)
        )


def read_districts(directory: Path | None = None) -> tuple[DivisionRow, ...]:
    """County-level rows; `parent_code` is the city's division code (e.g. 1101)."""
    return _read((directory or divisions_dir()) / "districts.csv", "cityCode")


def read_subdistricts(directory: Path | None = None) -> tuple[DivisionRow, ...]:
    """Township-level rows; `parent_code` is the district's code."""
    return _read((directory or divisions_dir()) / "subdistricts.csv", "areaCode")


def is_development_zone_name(name: str) -> bool:
    return any(marker in name for marker in DEVELOPMENT_ZONE_MARKERS)


def _kind_from_name(name: str) -> str | None:
    for suffix, kind in _KIND_BY_SUFFIX:
        if name.endswith(suffix):
            return kind
    return None


def classify_subdistrict(code: str, name: str) -> Classification:
    """Kind and flags of a township-level row from its NBS code and name.

    NBS township codes (last three digits): 001–099 街道, 100–199 镇, 200–399 乡, 400+ units
    "similar to township level" (开发区, 园区, 机场, 筹备组 …). A name ending in 地区 is an area
    (地区办事处) whatever its number. The 400-series are flagged, never dropped: development zones and
    parks as such (kind park); the rest as statistical units, keeping a street/town kind when the name
    says so (平顶山 示范区's 滨湖街道), otherwise kind other (大兴国际机场, 香山街道筹备组).
    """
    number = int(code[-3:])
    by_name = _kind_from_name(name)
    if number >= 400:
        if is_development_zone_name(name):
            return Classification(SubdistrictKind.PARK, is_development_zone=True, is_statistical=False)
        return Classification(by_name or SubdistrictKind.OTHER, is_development_zone=False, is_statistical=True)
    if by_name == SubdistrictKind.AREA:
        return Classification(SubdistrictKind.AREA, False, False)
    if number < 100:
        kind = SubdistrictKind.STREET
    elif number < 200:
        kind = SubdistrictKind.TOWN
    else:
        kind = SubdistrictKind.TOWNSHIP
    return Classification(kind, False, False)
