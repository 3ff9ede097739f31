"""The data source routes of /api/v1: sources, testing, discovery, the stored schema, types, files.

The named routes come before the router's so that ``types`` and ``test-connection`` are never
read as an id (the router's id is digits only anyway). A trailing slash is optional everywhere.
"""
from django.urls import re_path
from rest_framework.routers import SimpleRouter

from datasources.api import connections as views
from datasources.api import bundles, health, schema
from datasources.api.files import StoredFileViewSet
from datasources.api.sources import DataSourceViewSet
from datasources.api.webhooks import WebhookViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # both /data-sources and /data-sources/ work
router.register("data-sources", DataSourceViewSet, basename="data-source")
router.register("storage/files", StoredFileViewSet, basename="stored-file")
router.register("webhooks", WebhookViewSet, basename="webhook")

ID = r"(?P<pk>\d+)"

urlpatterns = [
    re_path(r"^data-sources/types/?$", views.TypesView.as_view(), name="data-source-types"),
    re_path(r"^data-sources/export/?$", bundles.ExportView.as_view(), name="data-sources-export"),
    re_path(r"^data-sources/apply/?$", bundles.ApplyView.as_view(), name="data-sources-apply"),
    re_path(r"^data-sources/test-connection/?$", views.UnsavedTestConnectionView.as_view(),
            name="data-source-test-unsaved"),
    re_path(rf"^data-sources/{ID}/test-connection/?$", views.TestConnectionView.as_view(),
            name="data-source-test-connection"),
    re_path(rf"^data-sources/{ID}/discover-schema/?$", schema.DiscoverSchemaView.as_view(),
            name="data-source-discover-schema"),
    re_path(rf"^data-sources/{ID}/discoveries/?$", schema.DiscoveriesView.as_view(),
            name="data-source-discoveries"),
    re_path(rf"^data-sources/{ID}/discoveries/(?P<discovery_id>\d+)/?$", schema.DiscoveryView.as_view(),
            name="data-source-discovery"),
    re_path(rf"^data-sources/{ID}/schema/?$", schema.SchemaView.as_view(), name="data-source-schema"),
    re_path(rf"^data-sources/{ID}/schema/export/?$", schema.SchemaExportView.as_view(),
            name="data-source-schema-export"),
    re_path(rf"^data-sources/{ID}/schema/changes/?$", schema.SchemaChangesView.as_view(),
            name="data-source-schema-changes"),
    re_path(rf"^data-sources/{ID}/health/?$", health.HealthView.as_view(), name="data-source-health"),
    re_path(rf"^data-sources/{ID}/health/checks/?$", health.HealthChecksView.as_view(),
            name="data-source-health-checks"),
    *router.urls,
]
