"""Accounts: users, roles (city administrator, district officer, hiring entity, planner, auditor),
their city/district/subdistrict scopes, login lockout, idle timeout, API tokens and two-factor authentication
for staff (rpms.accounts.twofactor, issue 16)."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rpms.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment check of RPMS_REQUIRE_2FA)
