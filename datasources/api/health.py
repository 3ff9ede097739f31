"""A source's health: the summary over a window and the paginated history of its checks."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from datasources.api.pagination import EnvelopePagination
from datasources.api.serializers import WatchedCertificateSerializer
from datasources.models import HealthCheck
from datasources.selectors.health import (
    WINDOWS,
    health_checks_of,
    health_summary,
    health_window,
)
from datasources.selectors.sources import data_source_for
from datasources.services.expiry import current_certificate
from rivergen.api import success


class HealthCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthCheck
        fields = ["id", "checked_at", "status", "error_code", "message", "latency_ms", "trigger",
                  "certificate_not_after"]
        read_only_fields = fields


class LatencySerializer(serializers.Serializer):
    p50 = serializers.IntegerField(allow_null=True, help_text="of successful checks, ms")
    p95 = serializers.IntegerField(allow_null=True, help_text="of successful checks, ms")


class HealthSummarySerializer(serializers.Serializer):
    data_source_id = serializers.IntegerField()
    window = serializers.ChoiceField(choices=list(WINDOWS))
    status = serializers.CharField(help_text="the source's current status: inactive, active or error")
    status_since = serializers.DateTimeField(allow_null=True, help_text="first check of the current run")
    uptime_percent = serializers.FloatField(allow_null=True, help_text="successful checks / checks in the window")
    checks = serializers.IntegerField()
    failures = serializers.IntegerField()
    latency_ms = LatencySerializer()
    last_checks = HealthCheckSerializer(many=True, help_text="the last 20 checks, newest first")
    server_certificate = WatchedCertificateSerializer(
        allow_null=True, help_text="of the last successful check; expiring within TLS_CERTIFICATE_WARNING_DAYS")


class HealthView(APIView):
    @extend_schema(
        operation_id="data_source_health",
        parameters=[OpenApiParameter("window", str, enum=list(WINDOWS), description="default 24h")],
        responses={200: HealthSummarySerializer},
    )
    def get(self, request, pk):
        source = data_source_for(request.user, pk)
        window = health_window(request.query_params)
        summary = {**health_summary(source=source, window=window), "server_certificate": current_certificate(source)}
        return success(HealthSummarySerializer(summary).data, "Data source health")


class HealthChecksView(APIView):
    pagination_class = EnvelopePagination

    @extend_schema(
        operation_id="data_source_health_checks",
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="default 20; values over 100 give 100"),
        ],
        responses={200: HealthCheckSerializer(many=True)},
    )
    def get(self, request, pk):
        source = data_source_for(request.user, pk)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(health_checks_of(source), request, view=self)
        return paginator.get_paginated_response(
            HealthCheckSerializer(page, many=True).data, message="Health checks retrieved successfully",
        )
