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


# Failed API keys are counted under this name, and only per client address: a key is no
# username, and counting per key would let anyone who saw a key's prefix lock it out.
API_KEY_ATTEMPT = "(api key)"


def lockout_parameters(request, credentials=None) -> list:
    if credentials and credentials.get("username") == API_KEY_ATTEMPT:
        return ["ip_address"]
    return ["username", "ip_address"]


def address_locked(request) -> bool:
    if not settings.AXES_ENABLED:
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": API_KEY_ATTEMPT})


def key_failed(request) -> None:
    """A wrong API key: one more failed login for the client address."""
    if settings.AXES_ENABLED:
        from axes.handlers.proxy import AxesProxyHandler

        AxesProxyHandler.user_login_failed(sender=None, credentials={"username": API_KEY_ATTEMPT}, request=request)
