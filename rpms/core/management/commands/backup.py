"""manage.py backup [OUTPUT]: the database and every file in one archive (rpms.core.backup)."""
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rpms.core.backup import AREA_LABELS, VENDOR_LABELS, BackupError, backup_create, size_label


class Command(BaseCommand):
    help = ("备份数据库（PostgreSQL 用 pg_dump 自定义格式，SQLite 用在线备份接口）和全部文件（上传文件 MEDIA_ROOT、"
            "私有文件 PRIVATE_MEDIA_ROOT）到一个 tar 归档，附清单（各数据表行数与内容校验值、各文件 SHA-256）。"
            "系统运行中也可备份。写完后默认重新读出校验。")

    def add_arguments(self, parser):
        parser.add_argument("output", nargs="?", default=None,
                            help="归档文件路径或已有目录（默认 var/backups/rpms-backup-<日期>-<时间>.tar）")
        parser.add_argument("--no-verify", action="store_true", help="写完后不重新读出校验（默认校验）")

    def handle(self, *args, output=None, no_verify=False, verbosity=1, **options):
        def report(message):
            if verbosity >= 1:
                self.stdout.write(message)

        target = Path(output) if output else None
        if output and output.endswith(("/", os.sep)):
            target.mkdir(parents=True, exist_ok=True)  # "backups/" names a folder, made if missing
        try:
            result = backup_create(output=target, verify=not no_verify, report=report)
        except BackupError as exc:
            raise CommandError(f"备份失败：{exc}") from None
        manifest = result.manifest
        database, totals = manifest["database"], manifest["totals"]
        files = "，".join(f"{AREA_LABELS[area]} {n} 个" for area, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"备份完成：{result.path}"))
        self.stdout.write(f"  备份时间：{manifest['created_at']}")
        self.stdout.write(f"  数据库：{VENDOR_LABELS[database['vendor']]}，数据表 {totals['tables']} 张，共 {totals['rows']} 行")
        self.stdout.write(f"  文件：{files}（共 {size_label(totals['file_bytes'])}）")
        self.stdout.write(f"  归档大小：{size_label(result.size)}")
        self.stdout.write(f"  校验值（清单 SHA-256）：{result.checksum}")
        self.stdout.write("  校验：" + ("已重新读出，全部一致" if result.verified else "未校验（--no-verify）"))
        self.stdout.write("  注意：归档含全部个人信息，请加密存放并限制访问。")
