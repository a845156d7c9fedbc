"""Installs the three separated administrators (三权分立; GB/T 22239-2019 8.1.5): 系统管理员, 安全管理员,
审计管理员. The only way these roles are given. Idempotent: creates the accounts that do not exist, updates
those that do (a new password, an account reactivated), changes nothing on a second identical run; refuses to
give two roles to one account, or a role to a superuser, a staff member or an account of the institution.
Every change is audited (without the password)."""
import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rpms.accounts.administration import administrator_install
from rpms.core.errors import DomainError
from rpms.core.roles import Role

# (role, option prefix, environment prefix)
ADMINISTRATORS = (
    (Role.SYSTEM_ADMIN, "system-admin", "RPMS_SYSTEM_ADMIN"),
    (Role.SECURITY_ADMIN, "security-admin", "RPMS_SECURITY_ADMIN"),
    (Role.AUDIT_ADMIN, "audit-admin", "RPMS_AUDIT_ADMIN"),
)
OUTCOMES = {"created": "已创建", "updated": "已更新", "unchanged": "无变化"}


class Command(BaseCommand):
    help = ("安装时设置三类管理员账户（系统管理员、安全管理员、审计管理员，三权分立）。用户名和密码可用参数给出，"
            "或用环境变量 RPMS_SYSTEM_ADMIN_USERNAME / RPMS_SYSTEM_ADMIN_PASSWORD、RPMS_SECURITY_ADMIN_USERNAME / "
            "RPMS_SECURITY_ADMIN_PASSWORD、RPMS_AUDIT_ADMIN_USERNAME / RPMS_AUDIT_ADMIN_PASSWORD 给出（推荐：命令行参数"
            "可能被同机其他用户看到）。可重复运行：已存在的账户只更新变化的内容。")

    def add_arguments(self, parser):
        for role, option, env in ADMINISTRATORS:
            label = Role(role).label
            parser.add_argument(f"--{option}", dest=f"{role}_username", metavar="USERNAME",
                                help=f"{label}的用户名（或环境变量 {env}_USERNAME）")
            parser.add_argument(f"--{option}-password", dest=f"{role}_password", metavar="PASSWORD",
                                help=f"{label}的密码（或环境变量 {env}_PASSWORD；账户已存在时可不给）")
            parser.add_argument(f"--{option}-name", dest=f"{role}_name", metavar="NAME",
                                help=f"{label}的姓名（默认“{label}”）")

    def handle(self, *args, **options):
        wanted = []
        for role, _option, env in ADMINISTRATORS:
            username = (options.get(f"{role}_username") or os.environ.get(f"{env}_USERNAME") or "").strip()
            password = options.get(f"{role}_password") or os.environ.get(f"{env}_PASSWORD") or None
            if username:
                wanted.append((role, username, password, options.get(f"{role}_name") or ""))
            elif password:
                raise CommandError(f"给出了{Role(role).label}的密码，但没有给出用户名。")
        if not wanted:
            raise CommandError("请至少给出一类管理员的用户名（参数 --system-admin / --security-admin / --audit-admin "
                               "或对应的环境变量）。")
        seen = {}
        for role, username, _password, _name in wanted:
            key = username.lower()
            if key in seen:
                raise CommandError(f"用户名 {username} 同时用于{Role(seen[key]).label}和{Role(role).label}："
                                   "一个账户不能兼任两类管理员，请分别设置。")
            seen[key] = role
        try:
            with transaction.atomic():
                results = [
                    (role, administrator_install(role=role, username=username, password=password, display_name=name))
                    for role, username, password, name in wanted
                ]
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for role, (user, outcome) in results:
            self.stdout.write(f"{Role(role).label} {user.username}：{OUTCOMES[outcome]}")
        self.stdout.write(self.style.SUCCESS("管理员账户设置完成。"))
