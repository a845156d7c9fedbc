"""District outlines for the coverage map (一张图, B4), drawn as inline SVG without any online tiles.

Outlines are GeoJSON files in `data/geo/` (see data/geo/README.md); a feature's `id` is the district's
statistical code, so a city gets a map when some of its districts have an outline, and only the table
otherwise (Pingdingshan ships none). Longitude/latitude are projected server-side (equirectangular,
scaled by the cosine of the middle latitude, which is plenty for a schematic map of one city), simplified
(Douglas–Peucker, a fraction of a pixel) and rounded, once per set of files; the result is cached in the
process."""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

MAP_WIDTH = 640
MAP_PADDING = 8
LABEL_MIN_SIZE = 48  # map units; the names of smaller districts are in the table and the links' labels
SIMPLIFY_TOLERANCE = 0.6  # in SVG units (≈ pixels at full width; the map is never drawn larger)


@dataclass(frozen=True)
class DistrictShape:
    code: str
    name: str
    path: str  # the SVG path data, in the map's coordinates
    label_x: float
    label_y: float
    width: float = 0.0  # of the bounding box, in map units: small districts get no printed label
    height: float = 0.0

    @property
    def labelled(self) -> bool:
        return min(self.width, self.height) >= LABEL_MIN_SIZE


@dataclass(frozen=True)
class MapOutline:
    width: int
    height: int
    shapes: tuple[DistrictShape, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    def shape(self, code: str) -> DistrictShape | None:
        return next((s for s in self.shapes if s.code == code), None)


def geo_dir() -> Path:
    return Path(getattr(settings, "DATA_DIR", Path(settings.BASE_DIR) / "data")) / "geo"


def _files_signature() -> tuple[tuple[str, int, int], ...]:
    files = []
    for path in sorted(geo_dir().glob("*.geojson")):
        stat = path.stat()
        files.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(files)


@functools.lru_cache(maxsize=4)
def _features(signature: tuple[tuple[str, int, int], ...]) -> dict[str, dict]:
    """Feature id → feature, over every GeoJSON file (the signature makes a changed file reload)."""
    features: dict[str, dict] = {}
    for path, _size, _mtime in signature:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for feature in data.get("features", []):
            code = str(feature.get("id") or (feature.get("properties") or {}).get("code") or "")
            geometry = feature.get("geometry") or {}
            if code and geometry.get("type") in ("Polygon", "MultiPolygon"):
                features[code] = feature
    return features


def _polygons(geometry: dict) -> list[list[list[tuple[float, float]]]]:
    coordinates = geometry["coordinates"]
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in polygon] for polygon in polygons]


def _perpendicular(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas–Peucker, iterative (rings have up to a thousand points)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        best, index = 0.0, None
        for i in range(first + 1, last):
            distance = _perpendicular(points[i], points[first], points[last])
            if distance > best:
                best, index = distance, i
        if index is not None and best > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [p for p, k in zip(points, keep) if k]


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text.removesuffix(".0")


@functools.lru_cache(maxsize=16)
def _outline(codes: tuple[str, ...], signature) -> MapOutline | None:
    features = _features(signature)
    chosen = [(code, features[code]) for code in codes if code in features]
    if not chosen:
        return None
    lons, lats = [], []
    for _code, feature in chosen:
        for polygon in _polygons(feature["geometry"]):
            for ring in polygon:
                lons.extend(p[0] for p in ring)
                lats.extend(p[1] for p in ring)
    min_lon, max_lon, min_lat, max_lat = min(lons), max(lons), min(lats), max(lats)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = (max_lon - min_lon) * kx or 1.0
    span_y = (max_lat - min_lat) or 1.0
    scale = (MAP_WIDTH - 2 * MAP_PADDING) / span_x
    height = math.ceil(span_y * scale + 2 * MAP_PADDING)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (MAP_PADDING + (lon - min_lon) * kx * scale, MAP_PADDING + (max_lat - lat) * scale)

    shapes = []
    for code, feature in chosen:
        parts = []
        xs, ys = [], []
        for polygon in _polygons(feature["geometry"]):
            for ring in polygon:
                projected = simplify([project(lon, lat) for lon, lat in ring], SIMPLIFY_TOLERANCE)
                xs.extend(p[0] for p in projected)
                ys.extend(p[1] for p in projected)
                if len(projected) < 3:
                    continue
                if projected[0] == projected[-1]:
                    projected = projected[:-1]
                parts.append("M" + " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in projected) + "Z")
        properties = feature.get("properties") or {}
        label = properties.get("cp")
        if label and len(label) >= 2:
            lx, ly = project(float(label[0]), float(label[1]))
        else:  # the centre of the bounding box of the first ring
            ring = _polygons(feature["geometry"])[0][0]
            lx, ly = project((min(p[0] for p in ring) + max(p[0] for p in ring)) / 2,
                             (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2)
        shapes.append(DistrictShape(code=code, name=str(properties.get("name") or code), path="".join(parts),
                                    label_x=round(lx, 1), label_y=round(ly, 1),
                                    width=round(max(xs) - min(xs), 1) if xs else 0.0,
                                    height=round(max(ys) - min(ys), 1) if ys else 0.0))
    return MapOutline(width=MAP_WIDTH, height=height, shapes=tuple(shapes))


def outline_for(district_codes) -> MapOutline | None:
    """The projected outlines of these districts (those that have one), or None when none has."""
    return _outline(tuple(sorted(str(c) for c in district_codes)), _files_signature())
