from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets

from accounts.selectors import organization_ids_for
from datasources.models import DataSource
from datasources.serializers import DataSourceInputSerializer, DataSourceSerializer
from datasources.services import data_source_create
from rivergen.api import success


class DataSourceViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = DataSourceSerializer

    def get_queryset(self):
        return DataSource.objects.filter(organization_id__in=organization_ids_for(self.request.user))

    @extend_schema(request=DataSourceInputSerializer, responses={201: DataSourceSerializer})
    def create(self, request):
        source = data_source_create(actor=request.user, data=request.data)
        return success(
            DataSourceSerializer(source).data, "Data source created successfully", status.HTTP_201_CREATED
        )
