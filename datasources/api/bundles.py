"""Sources as code over HTTP: GET /data-sources/export and POST /data-sources/apply (thin views).

The export answers in the envelope as JSON, or (``?format=yaml``) as a bare YAML document: a file
to commit. Apply takes the bundle as JSON or as YAML (``Content-Type: application/yaml``).
"""
import copy

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from datasources.api.sources import LIST_PARAMETERS
from datasources.selectors.sources import data_source_list
from datasources.services.bundles import ACTIONS, EXPORTED_FIELDS, bundle_apply, bundle_export, bundle_plan
from datasources.services.bundle_text import bundle_from_text, bundle_yaml
from datasources.services.inputs import CredentialValueField, DataSourceInputSerializer
from rivergen.api import SizeLimitedJSONParser, success
from rivergen.openapi import int_query
from rivergen.params import bool_param, choice_param, int_param

YAML = "application/yaml"
_DECLARED = DataSourceInputSerializer._declared_fields

# The bundle's shape for the OpenAPI document: the entry's fields are the declaration's own.
BundleEntrySerializer = type("BundleEntry", (serializers.Serializer,), {
    "workspace": serializers.CharField(allow_null=True, required=False, help_text="The workspace's name"),
    **{name: copy.deepcopy(_DECLARED[name]) for name in EXPORTED_FIELDS},
    "credentials": serializers.DictField(
        child=CredentialValueField(allow_null=True), required=False,
        help_text="A value sets a key, null removes it, an absent key keeps the stored value. "
                  "An export lists the non-secret keys only (username, warehouse, role...).",
    ),
    "credentials_set": serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text="Secret keys that hold a value (an export's note; a new source must be given them)",
    ),
    "connection_string": serializers.CharField(allow_null=True, required=False, help_text="Write-only; absent keeps it"),
})


class BundleSerializer(serializers.Serializer):
    version = serializers.ChoiceField(choices=[1])
    data_sources = BundleEntrySerializer(many=True)


class FieldChangeSerializer(serializers.Serializer):
    to = serializers.JSONField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.JSONField(allow_null=True)  # a keyword in Python
        return fields


class SourceChangeSerializer(serializers.Serializer):
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=ACTIONS)
    fields = serializers.DictField(child=FieldChangeSerializer())
    secrets = serializers.ListField(child=serializers.CharField(), help_text="Secret keys set or removed")


class PlanSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    summary = serializers.DictField(child=serializers.IntegerField(), help_text="create, update, unchanged, delete")
    changes = SourceChangeSerializer(many=True)


class YAMLParser(BaseParser):
    media_type = YAML

    def parse(self, stream, media_type=None, parser_context=None):
        raw = SizeLimitedJSONParser.bounded_read(stream, parser_context)
        try:
            return bundle_from_text(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise exceptions.ParseError("YAML parse error - the body is not UTF-8.") from None
        except ValidationError as exc:
            raise exceptions.ParseError(exc.message_dict["bundle"][0]) from None


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` picks the export's format here, not one of DRF's renderers."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(
        operation_id="data_sources_export",
        description="Every configurable field of the sources (filtered as the list), the workspace by name, "
                    "no secret value. `format=yaml` answers with the bare bundle as YAML (no envelope).",
        parameters=[p for p in LIST_PARAMETERS if p.name in ("workspace_id", "type", "tag")] + [
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "yaml"], description="default json"),
        ],
        responses={(200, "application/json"): BundleSerializer,
                   (200, YAML): OpenApiResponse(BundleSerializer, description="The bare bundle (format=yaml)")},
    )
    def get(self, request):
        params = request.query_params.copy()
        output = choice_param(params, "format", ("json", "yaml"), default="json")
        params.pop("format", None)
        filters = params.copy()
        for name in [name for name in filters if name not in ("workspace_id", "type", "tag")]:
            filters.pop(name)
        bundle = bundle_export(data_source_list(user=request.user, filters=filters))
        if output == "json":
            return success(bundle, f"{len(bundle['data_sources'])} data sources exported")
        response = HttpResponse(bundle_yaml(bundle), content_type=f"{YAML}; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="data-sources.yaml"'
        return response


class ApplyView(APIView):
    parser_classes = [SizeLimitedJSONParser, YAMLParser]

    @extend_schema(
        operation_id="data_sources_apply",
        description="Plan (dry_run=true) or apply a bundle in the caller's organization: entries match "
                    "sources by name (trimmed, case-insensitive); every entry is validated before anything "
                    "is written, errors are keyed `data_sources[i].field`; all or nothing. The body may also be "
                    "the same bundle as YAML (`Content-Type: application/yaml`). Other top-level keys are ignored.",
        parameters=[
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="true: plan only (default false)"),
            OpenApiParameter("prune", OpenApiTypes.BOOL,
                             description="true: delete the sources of workspace_id the bundle does not list"),
            int_query("workspace_id", "the workspace to prune; also picks the organization"),
        ],
        # YAML bodies (Content-Type: application/yaml) are the same document; only JSON is listed, as
        # generated clients cannot build a YAML body.
        request={"application/json": BundleSerializer},
        responses={200: PlanSerializer},
    )
    def post(self, request):
        params = request.query_params
        dry_run, prune = bool_param(params, "dry_run"), bool_param(params, "prune")
        workspace_id = int_param(params, "workspace_id")
        arguments = {"actor": request.user, "bundle": request.data, "workspace_id": workspace_id, "prune": bool(prune)}
        if dry_run:
            return success(bundle_plan(**arguments), "Plan: nothing was written")
        return success(bundle_apply(**arguments), "Bundle applied")


def close_bundle_schemas(result, generator, request, public):
    """An OpenAPI postprocessing hook: a bundle and its entries refuse unknown keys (a typo never
    silently drops a setting), so their schemas say additionalProperties: false."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("BundleEntry", "BundleEntryRequest"):
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
