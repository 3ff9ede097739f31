from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status

from datasources.api import openapi  # noqa: F401  (registers the per-type request schemas)
from datasources.api.serializers import (
    DataSourceDetailSerializer,
    DataSourceSerializer,
    data_source_data,
)
from datasources.api.viewsets import ResourceViewSet
from datasources.connectors import TYPE_CHOICES
from datasources.selectors.sources import (
    ORDERING_FIELDS,
    data_source_for,
    data_source_list,
    data_sources_visible_to,
)
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.sources import (
    data_source_create,
    data_source_delete,
    data_source_update,
)
from rivergen.api import success
from rivergen.openapi import int_query, resource_schema

LIST_PARAMETERS = [
    int_query("workspace_id"),
    OpenApiParameter("type", OpenApiTypes.STR, many=True, enum=[name for name, _ in TYPE_CHOICES],
                     description="repeatable: any of the given types"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=["inactive", "active", "error"]),
    OpenApiParameter(
        "tag", {"type": "array", "items": {"type": "string", "maxLength": 64, "pattern": "^[^\\x00]*$"}},
        explode=True, description="repeatable: sources with every given tag",
    ),
    OpenApiParameter("search", {"type": "string", "maxLength": 255, "pattern": "^[^\\x00]*$"},
                     description="in name, description and host"),
    OpenApiParameter(
        "ordering", OpenApiTypes.STR,
        enum=[f"{sign}{field}" for field in ORDERING_FIELDS for sign in ("", "-")],
        description="default -created_at",
    ),
    int_query("page"),
    int_query("page_size", "default 20; values over 100 give 100"),
]


@resource_schema(read=DataSourceDetailSerializer, write=DataSourceInputSerializer, list_parameters=LIST_PARAMETERS)
class DataSourceViewSet(ResourceViewSet):
    """Data sources of your organizations: connections to databases, warehouses, files and APIs."""

    serializer_class = DataSourceDetailSerializer

    def get_queryset(self):
        return data_sources_visible_to(self.request.user)

    def get_object(self):
        return data_source_for(self.request.user, self.kwargs["pk"])  # the one way to one source

    def list(self, request):
        page = self.paginate_queryset(data_source_list(user=request.user, filters=request.query_params))
        return self.get_paginated_response(DataSourceDetailSerializer(page, many=True).data)

    @extend_schema(request=DataSourceInputSerializer, responses={201: DataSourceSerializer})
    def create(self, request):
        source = data_source_create(actor=request.user, data=request.data)
        return success(data_source_data(source), "Data source created successfully", status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return success(DataSourceDetailSerializer(self.get_object()).data, "Data source retrieved successfully")

    def destroy(self, request, pk=None):
        source = self.get_object()
        data_source_delete(source=source, actor=request.user)
        return success(None, f'Data source "{source.name}" deleted successfully')

    def _update(self, request, *, partial):
        source = data_source_update(source=self.get_object(), actor=request.user, data=request.data, partial=partial)
        return success(DataSourceDetailSerializer(source).data, "Data source updated successfully")
