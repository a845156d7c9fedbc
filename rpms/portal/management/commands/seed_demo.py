"""Demo data for development and demonstrations: both cities (policy and geography), one account
per role, about 50 clearly fictional planners admitted the way their city admits (rpms.portal.demo_pool:
Pingdingshan's open call, review, notice and admission; Beijing's roster of existing members and direct
commission), and their activity (rpms.portal.demo_activity: departments, appointments, dispatch and
matching, duty records, written opinions, residents' suggestions), all through the real services.
Idempotent; refuses under production settings."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rpms.accounts.administration import administrator_install
from rpms.accounts.models import Role, User
from rpms.accounts.services import user_create
from rpms.geography.reference import reference_data_load
from rpms.portal.demo_activity import BEIJING_PLAN, SELECTION_PENDING, DemoActivity
from rpms.portal.demo_pool import DemoPool
from rpms.registry.models import Planner
from rpms.registry.services import planner_link_user

DEMO_PASSWORD = "Rpms-demo-2026"  # development only; stated in README.md
DEMO_ADMINISTRATORS = (
    (Role.SYSTEM_ADMIN, "system_admin", "系统管理员（演示）"),
    (Role.SECURITY_ADMIN, "security_admin", "安全管理员（演示）"),
    (Role.AUDIT_ADMIN, "audit_admin", "审计管理员（演示）"),
)

class Command(BaseCommand):
    help = ("载入演示数据：两个城市的政策与区划、各角色演示账户、约 50 名虚构责任规划师，以及相关部门、派驻聘任、"
            "派驻申请与统筹选派、履职记录、书面意见和居民意见建议（仅限开发环境）。")

    def add_arguments(self, parser):
        parser.add_argument("--planners", type=int, default=50, help="虚构责任规划师人数（默认 50）")

    def handle(self, *args, planners, **options):
        if "production" in (settings.SETTINGS_MODULE or "") or getattr(settings, "RPMS_ENVIRONMENT", "") == "production":
            raise CommandError("生产环境不得载入演示数据（seed_demo 仅用于开发和演示）。")
        with transaction.atomic():
            cities = {c.code: c for c in reference_data_load(actor=None)}
            self._users(cities)
            pool = self._planners(cities, planners)
            activity = DemoActivity(cities).run()
        created = sum(pool.created.get(k, 0) for k in ("roster_imported", "commissioned", "admitted_after_notice"))
        for line in pool.skipped + activity.skipped:
            self.stderr.write(f"跳过（规则不允许）：{line}")
        labels = [
            ("departments", "相关部门"), ("selection_proposals", "选聘提名"), ("appointments", "派驻聘任"),
            ("contracts_signed", "已上传签订合同"), ("appointments_filed", "其中已备案"),
            ("dispatch_requests", "派驻申请"), ("matching_runs", "统筹选派"), ("proposals", "待确认选派建议"),
            ("duty_records", "履职记录"), ("opinions_issued", "已出具书面意见"), ("opinions_draft", "书面意见草稿"),
            ("suggestions", "居民意见建议"),
        ]
        done = "，".join(f"{label} {activity.created[key]}" for key, label in labels if activity.created.get(key))
        self.stdout.write(self.style.SUCCESS(
            f"演示数据就绪：城市 {len(cities)} 个，新增虚构责任规划师 {created} 名"
            + (f"（名册导入 {pool.created.get('roster_imported', 0)}，定向委托 {pool.created.get('commissioned', 0)}，"
               f"公开征集经公示入库 {pool.created.get('admitted_after_notice', 0)}）" if created else "") + "；"
            f"新增{('：' + done) if done else '业务数据 0 条（已存在）'}。演示账户密码：{DEMO_PASSWORD}（仅限开发环境）"
        ))

    def _users(self, cities):
        bj, pds = cities["beijing"], cities["pingdingshan"]
        haidian = bj.districts.get(code="110108")
        chaoyang = bj.districts.get(code="110105")
        street = haidian.subdistricts.get(code="110108001")
        accounts = [
            dict(username="city_admin", role=Role.CITY_ADMIN, city=bj, display_name="北京市规划自然资源委（演示）", is_staff=True),
            dict(username="pds_admin", role=Role.CITY_ADMIN, city=pds, display_name="平顶山市自然资源和规划局（演示）", is_staff=True),
            dict(username="district_haidian", role=Role.DISTRICT_OFFICER, city=bj, display_name="海淀区责任规划师工作专班（演示）", districts=[haidian]),
            dict(username="district_chaoyang", role=Role.DISTRICT_OFFICER, city=bj, display_name="朝阳区责任规划师工作专班（演示）", districts=[chaoyang]),
            dict(username="street_demo", role=Role.HIRING_ENTITY, city=bj, display_name=f"{street.name}办事处（演示）", subdistricts=[street]),
            dict(username="planner_demo", role=Role.PLANNER, city=bj, display_name="演示规划师"),
            dict(username="auditor", role=Role.AUDITOR, city=None, display_name="审计员（演示）"),
        ]
        # B2, B19(1)(5): every Beijing street whose unit the demo staffs has its office's account, which
        # proposes the planner (the district approves) and signs the contract (B19(3)).
        for district_code, name, _role, _contract in BEIJING_PLAN + SELECTION_PENDING:
            subdistrict = bj.districts.get(code=district_code).subdistricts.get(name=name)
            if subdistrict.pk == street.pk or any(a["username"] == f"street_{subdistrict.code}" for a in accounts):
                continue
            accounts.append(dict(username=f"street_{subdistrict.code}", role=Role.HIRING_ENTITY, city=bj,
                                 display_name=f"{subdistrict.name}办事处（演示）", subdistricts=[subdistrict]))
        for spec in accounts:
            if not User.objects.filter(username=spec["username"]).exists():
                user_create(actor=None, password=DEMO_PASSWORD, email=f"{spec['username']}@example.invalid", **spec)
        # The three separated administrators (三权分立), given their roles the way an installation does.
        for role, username, display_name in DEMO_ADMINISTRATORS:
            if not User.objects.filter(username=username).exists():
                administrator_install(role=role, username=username, password=DEMO_PASSWORD, display_name=display_name,
                                      email=f"{username}@example.invalid")
        self._admin_group()

    def _admin_group(self):
        from django.contrib.auth.models import Group, Permission

        group, _ = Group.objects.get_or_create(name="市级管理员")
        perms = Permission.objects.filter(content_type__app_label__in=["cities", "geography", "accounts", "registry", "workdays", "core"], codename__startswith="view_")
        group.permissions.set(perms)
        for user in User.objects.filter(role=Role.CITY_ADMIN, is_staff=True):
            user.groups.add(group)

    def _planners(self, cities, total):
        """The pool through the real admission paths (rpms.portal.demo_pool); the demo account's planner."""
        report = DemoPool(cities, total).run()
        demo_user = User.objects.get(username="planner_demo")
        if not Planner.objects.filter(user=demo_user).exists():
            planner = Planner.objects.filter(city=cities["beijing"], is_fictional=True, user__isnull=True).order_by("id").first()
            if planner is not None:
                planner_link_user(actor=None, planner=planner, user=demo_user)
        return report
