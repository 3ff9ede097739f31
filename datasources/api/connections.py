"""Test connection and the types catalogue (thin views); discovery and the stored schema are in schema.py."""
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from datasources.api.openapi import UnsavedSourceInputSerializer
from datasources.api.serializers import (
    ConnectionTestSerializer,
    DataSourceTypeSerializer,
)
from datasources.selectors.sources import data_source_for
from datasources.services.connections import (
    data_source_test_connection,
    unsaved_source_test_connection,
)
from datasources.services.types import type_registry
from rivergen.api import success
from rivergen.serializers import utc_text


def _test_response(result):
    data = {**result.as_dict(), "tested_at": utc_text(result.tested_at)}
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
        result = data_source_test_connection(source=data_source_for(request.user, pk, write=True), actor=request.user)
        return _test_response(result)

