"""API plumbing shared by every router: bearer-token and session auth, role checks, error mapping."""
from ninja.security import HttpBearer, SessionAuth

from rpms.accounts.models import ApiToken
from rpms.accounts.services import token_digest
from rpms.core import clock
import json

from rpms.core.errors import DomainError, Forbidden
from rpms.core.roles import ADMINISTRATOR_REFUSAL, administrator_may_use


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` from POST /api/v1/auth/token; expired or revoked → 401."""

    def authenticate(self, request, token):
        if not token:
            return None
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True, expires_at__gt=clock.now())
            .first()
        )
        if found is None or not found.user.is_active or found.user.is_locked():
            return None
        if not administrator_may_use(found.user.role, request.path_info):
            raise Forbidden(ADMINISTRATOR_REFUSAL)
        request.user = found.user
        return found.user


# Browser pages calling the API reuse their session (CSRF enforced by ninja for unsafe methods).
session_auth = SessionAuth(csrf=True)
auth_required = [TokenAuth(), session_auth]


def require_role(request, *roles: str):
    """Deny by default: raise 403 unless the user holds one of `roles` (superusers pass)."""
    user = request.user
    if user.is_superuser or user.role in roles:
        return user
    raise Forbidden()


def json_object_body(request) -> dict:
    """The request body as a JSON object, or a 400 with a Chinese message."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("请求体不是有效的 JSON。", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise DomainError("请求体应为 JSON 对象。", code="invalid_json")
    return data


def public_answer(view):
    """For an endpoint anyone may call: every string of its answer passes through
    `rpms.core.masking.mask_public_data` (identity numbers, phone numbers and e-mail addresses typed in
    free text come out masked), whoever asks. Apply it under the router's decorator."""
    import functools

    from django.http import HttpResponseBase
    from ninja import Status

    from rpms.core.masking import mask_public_data

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        result = view(*args, **kwargs)
        if isinstance(result, HttpResponseBase):
            return result
        if isinstance(result, Status):
            return Status(result.status_code, mask_public_data(result.value))
        return mask_public_data(result)

    return wrapper
