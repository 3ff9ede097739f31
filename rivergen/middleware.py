"""Request checks that hold for every API endpoint, present or future."""
import logging

from django.core.exceptions import ValidationError
from django.http import JsonResponse

from rivergen.params import check_all_text

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
