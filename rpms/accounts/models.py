from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from rpms.core import clock
from rpms.core.labels import person_name
from rpms.core.roles import ADMIN_ROLES, Role  # noqa: F401  (the apps import Role from here)

from .scope_fields import ScopeManyToManyField


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    display_name = models.CharField("姓名/机构名称", max_length=100, blank=True)
    city = models.ForeignKey(
        "cities.City", verbose_name="所属城市", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # Reading `user.districts` / `user.subdistricts` gives the EFFECTIVE scope: the account's own plus that of
    # every colleague who delegated to it for today (rpms.accounts.scope_fields, issue #17 item 7); writes
    # (set/add/remove) and forms change the account's own scope only (`user.districts.own()`).
    districts = ScopeManyToManyField(
        "geography.District", verbose_name="负责的区", blank=True, related_name="officers"
    )
    subdistricts = ScopeManyToManyField(
        "geography.Subdistrict", verbose_name="所属街道乡镇", blank=True, related_name="entity_users"
    )
    failed_login_count = models.PositiveSmallIntegerField("连续登录失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    # Issue #17 item 7: a password reset by the city administrator is temporary; until the user sets a new one,
    # every page leads to the password change page (rpms.accounts.middleware.PasswordChangeRequiredMiddleware).
    password_must_change = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            # 三权分立 (GB/T 22239-2019 8.1.5): an administrator is never also a Django superuser or staff
            # member (the role field already holds one role: never two administrators, never an institution role).
            models.CheckConstraint(
                condition=~models.Q(role__in=ADMIN_ROLES) | models.Q(is_superuser=False, is_staff=False),
                name="administrator_not_superuser_or_staff",
                violation_error_message="系统管理员、安全管理员和审计管理员账户不能同时是超级用户或后台人员。",
            ),
        ]

    def __str__(self):
        # How pages name a person: the name, else the role — never the user name (issue #17 item 3).
        return person_name(self)

    def is_locked(self, now=None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or clock.now())

    @property
    def is_city_admin(self) -> bool:
        return self.role == Role.CITY_ADMIN

    @property
    def is_district_officer(self) -> bool:
        return self.role == Role.DISTRICT_OFFICER

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR

    @property
    def is_separated_administrator(self) -> bool:
        """One of the three administrators of 三权分立 (system, security, audit): its own pages only."""
        return self.role in ADMIN_ROLES


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="token_expiry_after_creation")
        ]


class Delegation(models.Model):
    """An officer names a colleague to act for them for a period (issue #17 item 7): a district officer
    another district officer of the same city, a hiring-entity user another hiring-entity user of the same
    city. From `starts_on` to `ends_on` (inclusive, local dates read from rpms.core.clock) the delegate's scope
    — districts or subdistricts, hence to-do list and permissions — is its own plus the delegator's; the
    delegator or the city administrator may revoke it early (`revoked_at`). Nothing is flipped by a job: the
    status is computed from the dates."""

    delegator = models.ForeignKey(User, verbose_name="委托人", on_delete=models.PROTECT, related_name="delegations_given")
    delegate = models.ForeignKey(User, verbose_name="代理人", on_delete=models.PROTECT, related_name="delegations_received")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    reason = models.CharField("委托事由", max_length=200)
    created_by = models.ForeignKey(User, verbose_name="设置人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("设置时间", default=timezone.now)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(User, verbose_name="撤销人", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = "工作委托"
        verbose_name_plural = "工作委托"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="delegation_ends_after_start",
                                   violation_error_message="结束日期不能早于开始日期。"),
            models.CheckConstraint(condition=~models.Q(delegate=models.F("delegator")), name="delegation_not_to_self",
                                   violation_error_message="不能委托给自己。"),
        ]
        indexes = [models.Index(fields=["delegate", "starts_on", "ends_on"], name="delegation_delegate_idx")]

    def __str__(self):
        return f"{self.delegator} 委托 {self.delegate}（{self.starts_on:%Y-%m-%d} 至 {self.ends_on:%Y-%m-%d}）"

    def status(self, today=None) -> str:
        """"revoked" / "scheduled" / "active" / "ended", from the dates (today: rpms.core.clock)."""
        today = today or clock.today()
        if self.revoked_at is not None:
            return "revoked"
        if today < self.starts_on:
            return "scheduled"
        if today > self.ends_on:
            return "ended"
        return "active"

    STATUS_LABELS = {"revoked": "已撤销", "scheduled": "未开始", "active": "生效中", "ended": "已结束"}

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS[self.status()]
