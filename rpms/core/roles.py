"""The users' roles (accounts.User.role), a vocabulary every layer reads: here in core so that core's own
role checks (who reads the audit log, whose background job it is) import nothing above it. Imported by the
apps as rpms.accounts.models.Role."""
from django.db import models


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", "市级管理员"
    DISTRICT_OFFICER = "district_officer", "区级工作人员"
    HIRING_ENTITY = "hiring_entity", "聘任主体（街道/乡镇/园区）"
    PLANNER = "planner", "责任规划师"
    AUDITOR = "auditor", "审计员"
    # The three separated administrators of 等保 2.0 level 3 (三权分立, GB/T 22239-2019 8.1.5 安全管理中心): no account
    # holds two of them, and none of them takes part in the institution's own work.
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


# The separated administrators (issue 16): accounts and configuration / roles, scopes, lockouts and 2FA resets /
# the audit trail, read and exported, nothing else.
ADMIN_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)

# Where the separated administrators may go (deny by default): their own pages and APIs, signing in and out,
# the home page and static files. Everything else — the institution's records and acts — answers 403 to them,
# even where a list would only come back empty (等保 2.0 8.1.5: an administrator does its one job).
ADMINISTRATOR_PATHS = ("/accounts/", "/audit/", "/inbox/", "/api/v1/auth/", "/api/v1/audit", "/api/v1/notifications",
                       "/api/v1/docs", "/api/v1/openapi.json", "/static/", "/i18n/")
ADMINISTRATOR_REFUSAL = "管理员账户只用于账户管理、安全管理或审计（三权分立），不能查看或办理责任规划师制度的业务。"


def administrator_may_use(role: str, path: str) -> bool:
    """Whether an account of `role` may open `path`: always, unless the role is one of the three administrators
    and the path lies outside their own pages."""
    if role not in ADMIN_ROLES:
        return True
    return path == "/" or path.startswith(ADMINISTRATOR_PATHS)
