"""Schema discovery and the stored catalogue: queue a discovery, its outcome, the catalogue by page,
the whole catalogue as NDJSON, and the changes discoveries recorded (thin views)."""
from django.core.paginator import EmptyPage
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.views import APIView

from datasources.api.pagination import EnvelopePagination
from datasources.api.schema_serializers import (
    DiscoveryQueuedSerializer,
    DiscoverySerializer,
    SchemaChangeSerializer,
    SchemaExportLineSerializer,
    SchemaPageSerializer,
)
from datasources.catalogue.export import catalogue_lines
from datasources.catalogue.read import MAX_PAGE_SIZE, page_numbers, schema_page
from datasources.models import Discovery
from datasources.selectors.changes import schema_changes
from datasources.selectors.sources import data_source_for
from datasources.services.discovery import discovery_queue
from rivergen.api import success
from rivergen.openapi import int_query

NDJSON = "application/x-ndjson"


class DiscoverSchemaView(APIView):
    @extend_schema(operation_id="data_source_discover_schema", request=None,
                   responses={202: DiscoveryQueuedSerializer})
    def post(self, request, pk):
        source = data_source_for(request.user, pk, write=True)
        with transaction.atomic():
            discovery = discovery_queue(source=source, actor=request.user)
        return success(
            {"discovery_id": discovery.pk, "status": Discovery.Status.QUEUED.value},
            "Schema discovery queued", status.HTTP_202_ACCEPTED,
        )


class DiscoveryView(APIView):
    @extend_schema(operation_id="data_source_discovery", responses={200: DiscoverySerializer})
    def get(self, request, pk, discovery_id):
        source = data_source_for(request.user, pk)
        discovery = Discovery.objects.filter(pk=discovery_id, data_source=source).first()
        if discovery is None:
            raise Http404
        return success(DiscoverySerializer(discovery).data, f"Schema discovery {discovery.status}")


class SchemaView(APIView):
    @extend_schema(
        operation_id="data_source_schema",
        parameters=[
            OpenApiParameter("schema", str, description="Exact schema name"),
            OpenApiParameter("table", str, description="Exact table name"),
            OpenApiParameter("search", str, description="Table or column name contains (case-insensitive)"),
            int_query("page", "From 1; a page past the end is a 404"),
            int_query("page_size", "Default 50, at most 100 (more is a 400)", maximum=MAX_PAGE_SIZE),
        ],
        responses={200: SchemaPageSerializer},
    )
    def get(self, request, pk):
        source = data_source_for(request.user, pk)
        page, page_size = page_numbers(request.query_params)
        params = request.query_params
        try:
            data = schema_page(source, schema=params.get("schema", ""), table=params.get("table", ""),
                               search=params.get("search", ""), page=page, page_size=page_size)
        except EmptyPage:
            raise Http404 from None
        data["schema_discovered_at"] = serializers.DateTimeField().to_representation(data["schema_discovered_at"]) \
            if data["schema_discovered_at"] else None
        return success(data, "Stored schema")


class SchemaExportView(APIView):
    @extend_schema(
        operation_id="data_source_schema_export",
        description="The whole stored catalogue, streamed as NDJSON: one line per table (with `schema` and "
                    "its `columns`), ordered by schema and table name. Not wrapped in the envelope.",
        responses={(200, NDJSON): OpenApiResponse(SchemaExportLineSerializer, description="One table per line")},
    )
    def get(self, request, pk):
        source = data_source_for(request.user, pk)
        response = StreamingHttpResponse(catalogue_lines(source), content_type=NDJSON)
        response["Content-Disposition"] = f'attachment; filename="data-source-{source.pk}-schema.ndjson"'
        return response


class SchemaChangesView(APIView):
    pagination_class = EnvelopePagination

    @extend_schema(
        operation_id="data_source_schema_changes",
        parameters=[
            OpenApiParameter("breaking", OpenApiTypes.BOOL, description="true or false"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Detected at or after (ISO 8601)"),
            OpenApiParameter("table", str, description="Exact table name"),
            OpenApiParameter("schema", str, description="Exact schema name"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="Default 20; values over 100 give 100"),
        ],
        responses={200: SchemaChangeSerializer(many=True)},
    )
    def get(self, request, pk):
        source = data_source_for(request.user, pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(schema_changes(source, request.query_params), request, view=self)
        return paginator.get_paginated_response(SchemaChangeSerializer(page, many=True).data, "Schema changes")
