"""manage.py restore ARCHIVE --yes: replaces the database and every file with an archive's content
(rpms.core.backup)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rpms.core.backup import AREA_LABELS, BackupError, archive_check, restore_archive


class Command(BaseCommand):
    help = ("用 manage.py backup 生成的归档恢复：替换当前全部数据（数据库）和全部文件（上传文件、私有文件）。"
            "先完整校验归档，再改动任何东西；恢复后逐表核对行数和内容校验值、逐个核对文件，并记入操作日志。"
            "须加 --yes 确认；只校验不恢复请用 --check。恢复前请停止应用服务和后台任务。")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="备份归档文件（.tar）")
        parser.add_argument("--yes", action="store_true",
                            help="确认用备份替换当前全部数据和文件（不可撤销）")
        parser.add_argument("--check", action="store_true", help="只校验归档能否恢复，不做任何改动")

    def handle(self, *args, archive, yes=False, check=False, verbosity=1, **options):
        def report(message):
            if verbosity >= 1:
                self.stdout.write(message)

        path = Path(archive)
        try:
            if check:
                self._check(path, report)
                return
            if not yes:
                raise CommandError(
                    "恢复将用备份替换当前的全部数据（数据库中的所有记录，包括操作日志）和全部文件（上传文件、私有文件），"
                    "恢复前的数据和文件不会保留，此操作不可撤销。确认无误后请加 --yes 再运行"
                    "（可先用 --check 只校验备份）。"
                )
            result = restore_archive(path, report=report)
        except BackupError as exc:
            raise CommandError(f"恢复失败：{exc}") from None
        archive_ = result.archive
        files = "，".join(f"{AREA_LABELS[area]} {n} 个" for area, n in result.files.items())
        self.stdout.write(self.style.SUCCESS(f"恢复完成：{path}"))
        self.stdout.write(f"  备份时间：{archive_.created_at}；校验值（清单 SHA-256）：{archive_.checksum}")
        self.stdout.write(f"  数据表 {result.tables} 张、共 {result.rows} 行：行数和内容校验值与清单全部一致")
        self.stdout.write(f"  文件：{files}，大小和 SHA-256 与清单全部一致")
        audit = archive_.tables.get("core_actionlog")
        if audit is not None:
            self.stdout.write(f"  操作日志：{audit['rows']} 条，内容校验值与备份一致；已追加一条“数据恢复”记录")
        if result.dropped_tables:
            self.stdout.write(f"  已删除备份中没有的数据表 {len(result.dropped_tables)} 张："
                              + "、".join(result.dropped_tables))
        if result.pending_migrations:
            self.stdout.write(self.style.WARNING(
                f"  备份的数据库结构比当前程序旧（缺 {len(result.pending_migrations)} 个迁移），"
                "请立即运行 manage.py migrate。"))

    def _check(self, path, report):
        report("正在校验备份文件（不做任何改动）……")
        import tempfile

        from rpms.core.backup import archive_verify

        archive_ = archive_check(path, report=report)
        with tempfile.TemporaryDirectory(prefix="rpms-check-") as scratch:
            archive_verify(archive_, db_dir=Path(scratch), report=report)
        self.stdout.write(self.style.SUCCESS(f"校验通过：{path} 可以恢复到当前系统（恢复时加 --yes）。"))
        if archive_.pending_migrations:
            self.stdout.write(f"  提示：恢复后需运行 manage.py migrate（缺 {len(archive_.pending_migrations)} 个迁移）。")
