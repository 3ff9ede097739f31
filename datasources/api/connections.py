"""Test connection and the types catalogue (thin views); discovery and the stored schema are in schema.py."""
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts.selectors import can_write, organization_ids_for
from datasources.api.openapi import UnsavedSourceInputSerializer
from datasources.api.serializers import ConnectionTestSerializer, DataSourceTypeSerializer
from datasources.models import DataSource
from datasources.services.connections import (
    data_source_test_connection,
    unsaved_source_test_connection,
)
from datasources.services.types import type_registry
from rivergen.api import success


def source_for(request, pk, *, write=False) -> DataSource:
    """The caller's source; another organization's id is the same 404 as a missing one."""
    source = DataSource.objects.filter(pk=pk, organization_id__in=organization_ids_for(request.user)).first()
    if source is None:
        raise Http404
    if write and not can_write(request.user, source.organization_id):
        raise PermissionDenied("Your role in this organization may not test or discover data sources.")
    return source


def _test_response(result):
    data = {**result.as_dict(), "tested_at": _utc(result.tested_at)}
    return success(data, "Connection test succeeded" if result.succeeded else "Connection test failed")


class TypesView(APIView):
    @extend_schema(operation_id="data_source_types", responses={200: DataSourceTypeSerializer(many=True)})
    def get(self, request):
        return success(type_registry(), "Data source types")


class UnsavedTestConnectionView(APIView):
    @extend_schema(
        operation_id="data_source_test_unsaved", request=UnsavedSourceInputSerializer,
        responses={200: ConnectionTestSerializer},
    )
    def post(self, request):
        result = unsaved_source_test_connection(actor=request.user, data=request.data)
        return _test_response(result)


class TestConnectionView(APIView):
    @extend_schema(operation_id="data_source_test_connection", request=None, responses={200: ConnectionTestSerializer})
    def post(self, request, pk):
        result = data_source_test_connection(source=source_for(request, pk, write=True), actor=request.user)
        return _test_response(result)


def _utc(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
