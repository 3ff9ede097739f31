"""/api/v1/audit-events: organization admins read their organizations' audit log (read only)."""
import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.audit import ACTIONS, ACTOR_TYPES, TARGET_TYPES
from accounts.audit_reads import audit_event_list
from datasources.api.pagination import EnvelopePagination
from rivergen.openapi import int_query

NDJSON = "application/x-ndjson"
EXPORT_CHUNK = 500


class _Actor(serializers.Serializer):
    type = serializers.ChoiceField(choices=ACTOR_TYPES)
    id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()


class _Target(serializers.Serializer):
    type = serializers.ChoiceField(choices=TARGET_TYPES, allow_null=True)
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class _Request(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    via = serializers.ChoiceField(choices=("api", "admin", "cli", "scheduler"))


class AuditEventSerializer(serializers.Serializer):
    """The documented shape of an event (``AuditEvent.as_dict`` writes it)."""

    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    organization_id = serializers.IntegerField(allow_null=True)
    action = serializers.ChoiceField(choices=ACTIONS)
    actor = _Actor()
    target = _Target()
    changes = serializers.DictField(
        help_text='{field: {"from", "to"}}; a secret field is {"changed": true}, never a value')
    request = _Request()


FILTERS = [
    OpenApiParameter("action", OpenApiTypes.STR, many=True, enum=list(ACTIONS), description="repeatable: any of them"),
    OpenApiParameter("actor_type", OpenApiTypes.STR, enum=list(ACTOR_TYPES)),
    int_query("actor_id"),
    OpenApiParameter("target_type", OpenApiTypes.STR, enum=list(TARGET_TYPES)),
    int_query("target_id"),
    int_query("organization_id", "one of the organizations you administer"),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="occurred at or after (ISO 8601; UTC if no offset)"),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="occurred before (ISO 8601; UTC if no offset)"),
]


class AuditEventsView(APIView):
    pagination_class = EnvelopePagination

    @extend_schema(
        operation_id="audit_events_list",
        description="The audit log of the organizations you administer, newest first (editors and viewers: 403).",
        parameters=[*FILTERS, int_query("page"), int_query("page_size", "default 20; values over 100 give 100")],
        responses={200: AuditEventSerializer(many=True)},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(audit_event_list(user=request.user, filters=request.query_params),
                                           request, view=self)
        return paginator.get_paginated_response([event.as_dict() for event in page], "Audit events")


class AuditEventsExportView(APIView):
    @extend_schema(
        operation_id="audit_events_export",
        description="The same events and filters as the list, all of them, streamed as NDJSON (one event per "
                    "line, newest first). Not wrapped in the envelope.",
        parameters=FILTERS,
        responses={(200, NDJSON): OpenApiResponse(AuditEventSerializer, description="One event per line")},
    )
    def get(self, request):
        events = audit_event_list(user=request.user, filters=request.query_params)  # errors before streaming
        lines = (json.dumps(event.as_dict(), separators=(",", ":")) + "\n"
                 for event in events.iterator(chunk_size=EXPORT_CHUNK))
        response = StreamingHttpResponse(lines, content_type=NDJSON)
        response["Content-Disposition"] = 'attachment; filename="audit-events.ndjson"'
        return response
