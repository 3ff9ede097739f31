"""Django-level 404/500: the envelope under /api/, Django's pages elsewhere; the favicon."""
from django.contrib.staticfiles import finders
from django.http import FileResponse
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt

from rivergen.api import json_404, json_500


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_404(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_500(request)
    return defaults.server_error(request)


@csrf_exempt  # nothing is written; without it a POST or DELETE would get the CSRF check's HTML 403
def api_not_found(request, rest=""):
    """Every path under /api/ that no route takes: the envelope's 404, in every mode (DEBUG's
    technical 404 page never answers an API client)."""
    return json_404(request)


@cache_control(max_age=86400, public=True)
def favicon(request):
    return FileResponse(open(finders.find("datasources/favicon.ico"), "rb"), content_type="image/x-icon")
