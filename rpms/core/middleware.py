import logging

from django.db import DataError
from django.shortcuts import render

from .context import client_ip, current_ip
from .errors import DomainError, bad_input_error

logger = logging.getLogger("rpms.requests")


class RequestContextMiddleware:
    """Makes the client IP available to audit rows written by services."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class DomainErrorMiddleware:
    """Pages: a refused act becomes a Chinese error page with its 4xx status, never a 500. So does bad input
    that surfaced as an exception in a view (a number no database holds, text that is not UTF-8: see
    rpms.core.errors.bad_input_error); parser errors raised before the view reach rpms.core.views.bad_request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OverflowError, DataError, UnicodeDecodeError)):
            logger.warning("Bad input on %s: %r", request.path, exception)
            exception = bad_input_error(exception)
        if isinstance(exception, DomainError):
            return render(
                request,
                "core/error.html",
                {"status": exception.status, "code": exception.code, "message": exception.message},
                status=exception.status,
            )
        return None
