"""Login throttling glue for django-axes: the client address, and the 429 a locked-out login gets."""
from django.conf import settings
from django.http import HttpResponse, JsonResponse


def client_address(request) -> str | None:
    """REMOTE_ADDR, or behind LOGIN_THROTTLE_PROXY_COUNT proxies the address the outermost one saw."""
    count = getattr(settings, "LOGIN_THROTTLE_PROXY_COUNT", 0)
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def retry_after_seconds() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds()))


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After: the envelope under /api/, a short text page for the admin."""
    from rivergen.api import error_body  # not at import time: axes' checks import this module early

    message = "Too many failed login attempts; try again later."
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(429, message), status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after_seconds())
    return response


def login_succeeded(request, user) -> None:
    """A token login is no session login (no user_logged_in signal): reset the failure count here."""
    if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
        from axes.handlers.proxy import AxesProxyHandler

        AxesProxyHandler.user_logged_in(sender=None, request=request, user=user)
