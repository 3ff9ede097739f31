"""The baseline for bench/create.py: the same encrypted INSERT as a create, with no auth, parsing
rules or envelope. Mounted only by bench/settings.py, never by the real URLconf."""
import json

from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from datasources.models import DataSource
from rivergen.urls import urlpatterns as real_urlpatterns


@csrf_exempt
def bare_create(request, organization_id):
    body = json.loads(request.body)
    now = timezone.now()
    source = DataSource(
        organization_id=organization_id, name=body["name"], type=body["type"], host=body["host"],
        port=body["port"], database_name=body["database_name"], credentials=body["credentials"],
        created_at=now, updated_at=now,
    )
    source.save()
    return JsonResponse({"id": source.pk}, status=201)


urlpatterns = [path("bench/bare-create/<int:organization_id>", bare_create), *real_urlpatterns]
