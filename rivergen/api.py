"""The /api/v1 envelope: one shape for every success and every error."""
import io
import logging
import traceback

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import set_rollback

from rivergen.errors import ConflictError, PayloadTooLarge, TooBusy
from rivergen.health import is_outage, retry_after

logger = logging.getLogger(__name__)

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

MESSAGES = {
    400: "Invalid request data.",
    401: "Authentication credentials were not provided or are invalid.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request body is too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
    500: "An internal error occurred.",
    503: "The service is temporarily unavailable; try again shortly.",
}


def success(data, message="", status_code=status.HTTP_200_OK, **extra):
    body = {"success": True, "data": data, "message": message, **extra}
    return Response(body, status=status_code)


def error_body(status_code, message=None, details=None, code=None):
    error = {"code": code or CODES.get(status_code, "ERROR"), "message": message or MESSAGES.get(status_code, "Error.")}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def _indexed(details):
    """Errors inside lists name the field and the index (``events[0]``), not a bare ``0``."""
    flat = {}
    for field, messages in details.items():
        if isinstance(messages, dict) and messages and all(isinstance(key, int) for key in messages):
            for index, inner in messages.items():
                flat.update(_indexed({f"{field}[{index}]": inner}))
        else:
            flat[field] = messages
    return flat


def _validation_details(detail):
    if isinstance(detail, dict):
        return _indexed(detail)
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def _first_message(details):
    for field, messages in details.items():
        while isinstance(messages, dict):
            field, messages = next(iter(messages.items()), (field, ""))
        text = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(text, (dict, list)):
            return "Invalid request data."
        return str(text) if field == "non_field_errors" else f"{field}: {text}"
    return "Invalid request data."


def _body_limit_message(limit):
    size = f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"
    return f"The request body is larger than the {size} limit."


class SizeLimitedJSONParser(JSONParser):
    """JSON bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are a 413; absurdly nested ones a 400.

    DRF's parsers read the request stream directly, so Django's own check of that
    setting (in ``request.body``) never runs for them.
    """

    @staticmethod
    def bounded_read(stream, parser_context) -> bytes:
        """The whole body, or a 413 past DATA_UPLOAD_MAX_MEMORY_SIZE (other parsers read through it too)."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            return b""
        if limit is None:
            return stream.read()
        request = (parser_context or {}).get("request")
        declared = str(request.META.get("CONTENT_LENGTH") or "") if request is not None else ""
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(_body_limit_message(limit))
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(_body_limit_message(limit))
        return raw

    def parse(self, stream, media_type=None, parser_context=None):
        if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None or stream is None:
            return super().parse(stream, media_type, parser_context)
        raw = self.bounded_read(stream, parser_context)
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None


class WriteRateThrottle(UserRateThrottle):
    """Throttles each user's writes (POST, PUT, PATCH, DELETE); reads are not counted.

    The rate is read from settings.API_WRITE_THROTTLE_RATE on every request, so it
    can be changed without re-importing DRF's settings.
    """

    scope = "writes"

    def __init__(self):
        pass  # the rate is resolved per request in allow_request

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS") or not getattr(request.user, "is_authenticated", False):
            return True
        self.rate = getattr(settings, "API_WRITE_THROTTLE_RATE", None)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


def exception_handler(exc, context):
    """DRF exception handler: every error leaves in the envelope."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(_body_limit_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    headers = {}
    if isinstance(exc, ConflictError):
        body, code = error_body(409, str(exc), exc.details or None), 409
    elif isinstance(exc, PayloadTooLarge):
        body, code = error_body(413, str(exc)), 413
    elif isinstance(exc, TooBusy):
        body, code = error_body(429, str(exc)), 429
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
        body, code = error_body(400, _first_message(details), details), 400
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            code = 401
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        message = exc.detail if isinstance(exc.detail, str) else MESSAGES.get(code)
        if code == 401 and exc.get_codes() != "token_expired":
            message = MESSAGES[401]
        body = error_body(code, str(message))
    elif is_outage(exc):
        logger.warning("Service unavailable: %s", type(exc).__name__)
        body, code = error_body(503), 503
        headers["Retry-After"] = retry_after()
    else:
        # The frames, not the message: a driver's message may quote a DSN or a password.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.error("Unhandled API error %s\n%s", type(exc).__name__, frames)
        body, code = error_body(500), 500

    set_rollback()
    return Response(body, status=code, headers=headers)


def json_404(request, exception=None):
    return JsonResponse(error_body(404), status=404)


def json_500(request):
    return JsonResponse(error_body(500), status=500)
