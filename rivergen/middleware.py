"""Request checks that hold for every API endpoint, present or future."""
import logging

from django.core.exceptions import ValidationError
from django.http import JsonResponse

from rivergen.params import check_all_text
from rivergen.request_context import request_context, request_id_or_new
from rivergen.throttling import client_address

logger = logging.getLogger(__name__)


class RefuseNulQueryMiddleware:
    """Under /api/, a NUL byte anywhere in the query string is a 400 before any view runs:
    databases refuse NUL in text, so a filter on it would otherwise be a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                check_all_text(request.GET)
            except ValidationError as exc:
                # Imported here: rivergen.api imports DRF, whose settings import rivergen.api.
                from rivergen.api import error_body

                field, messages = next(iter(exc.message_dict.items()))
                return JsonResponse(error_body(400, f"{field}: {messages[0]}", exc.message_dict), status=400)
        return self.get_response(request)


class ApiErrorEnvelopeMiddleware:
    """An exception that escapes a view under /api/ (DRF's handler catches those inside views)
    answers the envelope's 500 in every mode: DEBUG's technical page never reaches an API client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        from rivergen.api import json_500  # see RefuseNulQueryMiddleware

        logger.error("Unhandled error under /api/: %s", type(exception).__name__)
        return json_500(request)


class RequestIdMiddleware:
    """Every response carries ``X-Request-ID``: the client's (if 1-200 visible ASCII characters)
    or a new one. The request runs in a ``request_context`` with that id, the client's address
    and user agent, and its surface (``admin`` under /admin/, else ``api``), for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_or_new(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        via = "admin" if request.path.startswith("/admin/") else "api"
        with request_context(via=via, request_id=request_id, ip=client_address(request),
                             user_agent=request.META.get("HTTP_USER_AGENT", ""), request=request):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
