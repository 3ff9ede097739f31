"""Test connection, schema discovery, the stored schema and the types catalogue (thin views)."""
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.views import APIView

from accounts.selectors import can_write, organization_ids_for
from datasources.api.openapi import UnsavedSourceInputSerializer
from datasources.api.serializers import (
    ConnectionTestSerializer,
    DataSourceTypeSerializer,
    DiscoveryQueuedSerializer,
    DiscoverySerializer,
    StoredSchemaSerializer,
)
from datasources.catalogue.read import page_numbers, schema_page
from datasources.models import DataSource, Discovery
from datasources.services.connections import (
    data_source_test_connection,
    unsaved_source_test_connection,
)
from datasources.services.discovery import discovery_queue
from datasources.services.types import type_catalogue
from rivergen.api import success
from rivergen.openapi import int_query, text_query


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
        return success(type_catalogue(), "Data source types")


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
        result = data_source_test_connection(source=source_for(request, pk, write=True))
        return _test_response(result)


class DiscoverSchemaView(APIView):
    @extend_schema(request=None, responses={202: DiscoveryQueuedSerializer})
    def post(self, request, pk):
        source = source_for(request, pk, write=True)
        with transaction.atomic():
            discovery = discovery_queue(source=source, actor=request.user)
        return success(
            {"discovery_id": discovery.pk, "status": Discovery.Status.QUEUED.value},
            "Schema discovery queued", status.HTTP_202_ACCEPTED,
        )


class DiscoveryView(APIView):
    @extend_schema(responses={200: DiscoverySerializer})
    def get(self, request, pk, discovery_id):
        source = source_for(request, pk)
        discovery = Discovery.objects.filter(pk=discovery_id, data_source=source).first()
        if discovery is None:
            raise Http404
        return success(discovery_data(discovery), f"Schema discovery {discovery.status}")


def discovery_data(discovery: Discovery) -> dict:
    return {
        "discovery_id": discovery.pk,
        "data_source_id": discovery.data_source_id,
        "status": discovery.status,
        "table_count": discovery.table_count,
        "column_count": discovery.column_count,
        "error_code": discovery.error_code,
        "error_message": discovery.error_message,
        "created_at": _utc(discovery.created_at),
        "started_at": _utc(discovery.started_at),
        "finished_at": _utc(discovery.finished_at),
    }


class SchemaView(APIView):
    @extend_schema(
        parameters=[
            text_query("schema", "Schema name contains (case-insensitive)"),
            text_query("table", "Table name contains (case-insensitive)"),
            int_query("page"),
            int_query("page_size", "At most 100", maximum=100),
        ],
        responses={200: StoredSchemaSerializer},
    )
    def get(self, request, pk):
        source = source_for(request, pk)
        page, page_size = page_numbers(request.query_params)
        data = schema_page(
            source, schema=request.query_params.get("schema", ""), table=request.query_params.get("table", ""),
            page=page, page_size=page_size,
        )
        data["schema_discovered_at"] = _utc(data["schema_discovered_at"])
        return success(data, "Stored schema")


def _utc(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
