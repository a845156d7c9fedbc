"""`manage.py load_divisions <city_code>`: loads the city's districts and subdistricts from data/divisions
as described by the "geography" section of data/cities/<code>.json, then forms the default units."""
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rpms.cities.models import City
from rpms.core.errors import DomainError
from rpms.geography.services import divisions_load, units_create_default


class Command(BaseCommand):
    help = "按 data/cities/<城市代码>.json 的 geography 配置载入区、街道乡镇，并按街道乡镇建立默认责任单元。"

    def add_arguments(self, parser):
        parser.add_argument("city_code", help="城市代码，如 beijing")
        parser.add_argument("--no-units", action="store_true", help="只载入区划，不建立默认责任单元")

    def handle(self, *args, city_code: str, no_units: bool = False, **options):
        path = Path(settings.DATA_DIR) / "cities" / f"{city_code}.json"
        if not path.exists():
            raise CommandError(f"找不到城市配置文件 {path}。")
        try:
            geography = json.loads(path.read_text(encoding="utf-8")).get("geography")
        except json.JSONDecodeError as exc:
            raise CommandError(f"城市配置文件 {path} 不是有效的 JSON：{exc}") from exc
        if not isinstance(geography, dict):
            raise CommandError(f"城市配置文件 {path} 中没有 geography 部分。")
        city = City.objects.filter(code=city_code).first()
        if city is None:
            raise CommandError(f"城市“{city_code}”尚未建立，请先载入城市及其政策配置。")
        try:
            counts = divisions_load(actor=None, city=city, geography=geography)
            created = 0 if no_units else units_create_default(actor=None, city=city)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{city.name}：{counts['districts']} 个区（新增 {counts['districts_created']}，更新 {counts['districts_updated']}），"
            f"{counts['subdistricts']} 个街道乡镇（新增 {counts['subdistricts_created']}，更新 {counts['subdistricts_updated']}；"
            f"其中开发区/园区 {counts['development_zones']}，统计单元 {counts['statistical_units']}）；"
            f"新建默认责任单元 {created} 个。"
        )
