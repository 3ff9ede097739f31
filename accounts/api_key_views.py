"""/api/v1/api-keys: organization admins (people, not keys) create, list, read, rotate and revoke keys."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action

from accounts.api_key_services import ApiKeyInputSerializer, api_key_create, api_key_revoke, api_key_rotate
from accounts.api_keys import ApiKey
from accounts.selectors import api_keys_visible_to
from datasources.api.pagination import EnvelopePagination
from rivergen.api import success
from rivergen.openapi import int_query

KEY_FIELDS = [
    "id", "name", "prefix", "role", "organization_id", "workspace_ids", "expires_at", "created_at",
    "created_by_user_id", "user_id", "last_used_at", "revoked_at",
]


class ApiKeySerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True)
    created_by_user_id = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    user_id = serializers.IntegerField(source="identity_id", read_only=True,
                                       help_text="The key's service identity: what its writes name as *_by_user_id.")
    workspace_ids = serializers.ListField(child=serializers.IntegerField(), allow_null=True, read_only=True)

    class Meta:
        model = ApiKey
        fields = KEY_FIELDS
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField(help_text="The key itself: shown in this answer only.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*KEY_FIELDS[:3], "key", *KEY_FIELDS[3:]]
        read_only_fields = fields

    def get_key(self, api_key) -> str:
        return self.context["key"]


class ApiKeyViewSet(viewsets.GenericViewSet):
    """API keys for service accounts (scripts, CI, Terraform) of the organizations you administer."""

    lookup_value_regex = r"\d+"
    pagination_class = EnvelopePagination
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return api_keys_visible_to(self.request.user)

    @extend_schema(parameters=[int_query("page"), int_query("page_size", "default 20; values over 100 give 100")])
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.paginator.get_paginated_response(ApiKeySerializer(page, many=True).data,
                                                     message="API keys retrieved successfully")

    @extend_schema(request=ApiKeyInputSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request):
        api_key, key = api_key_create(actor=request.user, data=request.data)
        data = ApiKeyCreatedSerializer(api_key, context={"key": key}).data
        return success(data, "API key created: store the key now, it is not shown again", status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return success(ApiKeySerializer(self.get_object()).data, "API key retrieved successfully")

    @extend_schema(responses={200: ApiKeySerializer})
    def destroy(self, request, pk=None):
        api_key = api_key_revoke(api_key=self.get_object(), actor=request.user)
        return success(ApiKeySerializer(api_key).data, "API key revoked")

    @extend_schema(request=None, responses=ApiKeyCreatedSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        api_key = self.get_object()
        key = api_key_rotate(api_key=api_key, actor=request.user)
        return success(ApiKeyCreatedSerializer(api_key, context={"key": key}).data,
                       "API key rotated: store the new key now; the old one no longer works")
