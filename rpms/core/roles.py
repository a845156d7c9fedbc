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
