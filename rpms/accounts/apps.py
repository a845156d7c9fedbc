"""Accounts: users, roles (city administrator, district officer, hiring entity, planner, auditor),
their city/district/subdistrict scopes, login lockout, idle timeout, API tokens and two-factor authentication
for staff (rpms.accounts.twofactor, issue 16); the city administrator's management of its city's institution
accounts and the officers' delegations (rpms.accounts.city_accounts, rpms.accounts.delegation, issue 17)."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rpms.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self):
        from rpms.core import pending
        from rpms.core.audit import register_row_note

        from . import checks  # noqa: F401  (registers the deployment check of RPMS_REQUIRE_2FA)
        from .delegation import audit_note, pending_items

        register_row_note(audit_note)  # acts of a delegate name the colleague they are done for
        pending.register(pending_items)  # a delegate's home page says for whom it acts
