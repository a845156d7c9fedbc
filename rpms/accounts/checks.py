"""Deployment check: a production site without two-factor authentication for staff (issue 16 item 1)."""
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_two_factor_required(app_configs, **kwargs):
    if getattr(settings, "RPMS_REQUIRE_2FA", False):
        return []
    return [Warning(
        "RPMS_REQUIRE_2FA 已关闭：市级管理员、区级工作人员、审计员和系统/安全/审计管理员登录时不需要动态验证码"
        "（等保 2.0 第三级要求两种以上鉴别技术，GB/T 22239-2019 8.1.4.1 d）。",
        hint="生产环境请保持 RPMS_REQUIRE_2FA 开启（config/settings/production.py 的默认值）。",
        id="accounts.W001",
    )]
