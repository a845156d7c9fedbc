"""Deployment check (`manage.py check --deploy`): every document prints, and encodes in its QR code,
an absolute verification address built from RPMS_PUBLIC_BASE_URL. A deployment that leaves it unset,
relative or pointing at this machine prints codes nobody outside can check."""
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1", ""}


def public_base_url_problem(value) -> str:
    """Why `value` cannot serve as the public address, in Chinese; "" if it can."""
    value = (value or "").strip()
    if not value:
        return "未设置 RPMS_PUBLIC_BASE_URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"RPMS_PUBLIC_BASE_URL（{value}）不是以 http:// 或 https:// 开头的绝对地址"
    if (parts.hostname or "") in LOCAL_HOSTS:
        return f"RPMS_PUBLIC_BASE_URL（{value}）指向本机，公众无法访问"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"RPMS_PUBLIC_BASE_URL（{value}）应只含协议和主机名（可含端口），不含路径或参数"
    return ""


@register(Tags.security, deploy=True)
def check_public_base_url(app_configs, **kwargs):
    problem = public_base_url_problem(getattr(settings, "RPMS_PUBLIC_BASE_URL", ""))
    if not problem:
        return []
    return [Warning(
        f"{problem}：文书上印制的核验地址和二维码将无法在外部核验（RPMS_PUBLIC_BASE_URL must be the public "
        "absolute address, e.g. https://rpms.example.gov.cn）。",
        hint="在环境变量中设置 RPMS_PUBLIC_BASE_URL，例如 https://rpms.example.gov.cn",
        id="documents.W001",
    )]
