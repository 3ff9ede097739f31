"""/api/v1/webhooks: organization admins manage endpoints, rotate secrets, ping, read the delivery log."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action

from datasources.api.viewsets import ResourceViewSet
from datasources.api.webhook_serializers import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookSecretSerializer,
    WebhookSerializer,
)
from datasources.selectors.webhooks import webhook_deliveries, webhooks_visible_to
from datasources.services.webhooks import (
    WebhookInputSerializer,
    webhook_create,
    webhook_delete,
    webhook_ping,
    webhook_rotate_secret,
    webhook_update,
)
from rivergen.api import success
from rivergen.openapi import resource_schema

PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="default 20; values over 100 give 100"),
]


@resource_schema(
    read=WebhookSerializer, write=WebhookInputSerializer, list_parameters=PAGE_PARAMETERS,
    create=extend_schema(request=WebhookInputSerializer, responses={201: WebhookCreatedSerializer}),
)
class WebhookViewSet(ResourceViewSet):
    """Signed webhooks of the organizations you administer."""

    serializer_class = WebhookSerializer

    def get_queryset(self):
        return webhooks_visible_to(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    def create(self, request):
        webhook, secret = webhook_create(actor=request.user, data=request.data)
        data = WebhookCreatedSerializer(webhook, context={"secret": secret}).data
        return success(data, "Webhook created: store the secret now, it is not shown again", status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return success(WebhookSerializer(self.get_object()).data, "Webhook retrieved successfully")

    def destroy(self, request, pk=None):
        webhook_delete(webhook=self.get_object(), actor=request.user)
        return success(None, "Webhook deleted successfully")

    @extend_schema(request=None, responses=WebhookSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        webhook = self.get_object()
        secret = webhook_rotate_secret(webhook=webhook, actor=request.user)
        return success(WebhookSecretSerializer({"id": webhook.pk, "secret": secret}).data,
                       "Secret rotated: store it now, it is not shown again")

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = webhook_ping(webhook=self.get_object(), actor=request.user)
        return success(WebhookDeliverySerializer(delivery).data, "Ping queued", status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=PAGE_PARAMETERS, responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(webhook_deliveries(self.get_object()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def get_paginated_response(self, data):
        return self.paginator.get_paginated_response(data, message="Retrieved successfully")

    def _update(self, request, *, partial):
        webhook = webhook_update(webhook=self.get_object(), actor=request.user, data=request.data, partial=partial)
        return success(WebhookSerializer(webhook).data, "Webhook updated successfully")
