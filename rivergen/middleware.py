"""Request checks that hold for every API endpoint, present or future."""
from django.core.exceptions import ValidationError
from django.http import JsonResponse

from rivergen.params import check_all_text


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
