"""The /api/v1 envelope: one shape for every success and every error."""
import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from rivergen.errors import ConflictError, PayloadTooLarge

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
}


def success(data, message="", status_code=status.HTTP_200_OK, **extra):
    body = {"success": True, "data": data, "message": message, **extra}
    return Response(body, status=status_code)


def error_body(status_code, message=None, details=None, code=None):
    error = {"code": code or CODES.get(status_code, "ERROR"), "message": message or MESSAGES.get(status_code, "Error.")}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def _validation_details(detail):
    if isinstance(detail, dict):
        return detail
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


def exception_handler(exc, context):
    """DRF exception handler: every error leaves in the envelope."""
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
        if code == 401:
            message = MESSAGES[401]
        body = error_body(code, str(message))
    else:
        logger.error("Unhandled API error: %s", type(exc).__name__, exc_info=exc)
        body, code = error_body(500), 500

    set_rollback()
    return Response(body, status=code, headers=headers)


def json_404(request, exception=None):
    return JsonResponse(error_body(404), status=404)


def json_500(request):
    return JsonResponse(error_body(500), status=500)
