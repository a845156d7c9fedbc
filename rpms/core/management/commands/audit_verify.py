"""manage.py audit_verify: recomputes the audit trail's SM3 HMAC chain (rpms.core.audit_chain) in id order and
prints {"ok": bool, "rows": N, "first_bad": id|null}; exits with status 1 when the chain is broken."""
import json

from django.core.management.base import BaseCommand

from rpms.core.audit_chain import verify


class Command(BaseCommand):
    help = ("校验操作日志的防篡改链（SM3-HMAC，GB/T 22239-2019 8.1.4.3）：按编号顺序逐条重算校验值，输出 "
            '{"ok": 是否完好, "rows": 记录数, "first_bad": 第一条校验不通过的记录编号}；不完好时以非零状态退出。')

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="数据库别名（默认 default）")

    def handle(self, *args, database="default", **options):
        result = verify(using=database)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
        if not result["ok"]:
            self.stderr.write(f"操作日志校验未通过：第一条异常记录编号为 {result['first_bad']}（被改动的记录，或被删除记录之后的第一条）。")
            raise SystemExit(1)
