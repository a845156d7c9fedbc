"""Accounts: users, roles (city administrator, district officer, hiring entity, planner, auditor),
their city/district/subdistrict scopes, login lockout, idle timeout and API tokens."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rpms.accounts"
    label = "accounts"
    verbose_name = "用户与权限"
