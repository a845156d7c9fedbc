from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from rpms.core import clock
from rpms.core.labels import person_name
from rpms.core.roles import ADMIN_ROLES, Role  # noqa: F401  (the apps import Role from here)


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    display_name = models.CharField("姓名/机构名称", max_length=100, blank=True)
    city = models.ForeignKey(
        "cities.City", verbose_name="所属城市", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    districts = models.ManyToManyField(
        "geography.District", verbose_name="负责的区", blank=True, related_name="officers"
    )
    subdistricts = models.ManyToManyField(
        "geography.Subdistrict", verbose_name="所属街道乡镇", blank=True, related_name="entity_users"
    )
    failed_login_count = models.PositiveSmallIntegerField("连续登录失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

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
