from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rpms.cities.services import city_configure_from_file
from rpms.core.errors import DomainError


class Command(BaseCommand):
    help = "从 JSON 配置文件新增或更新一个城市及其政策配置（见 data/cities/README.md）。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="城市配置文件，如 data/cities/beijing.json")

    def handle(self, *args, path, **options):
        try:
            city = city_configure_from_file(actor=None, path=Path(path))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已配置城市：{city.name}（{city.code}），政策版本 v{city.policy.version}"))
