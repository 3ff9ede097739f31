"""Routes for testing, discovery, the stored schema and the types catalogue.

Included before the router so that ``types`` and ``test-connection`` are never read as an id
(the router's id is digits only anyway). A trailing slash is optional, as everywhere in /api/v1.
"""
from django.urls import re_path

from datasources import connection_views as views

ID = r"(?P<pk>\d+)"

urlpatterns = [
    re_path(r"^data-sources/types/?$", views.TypesView.as_view(), name="data-source-types"),
    re_path(r"^data-sources/test-connection/?$", views.UnsavedTestConnectionView.as_view(),
            name="data-source-test-unsaved"),
    re_path(rf"^data-sources/{ID}/test-connection/?$", views.TestConnectionView.as_view(),
            name="data-source-test-connection"),
    re_path(rf"^data-sources/{ID}/discover-schema/?$", views.DiscoverSchemaView.as_view(),
            name="data-source-discover-schema"),
    re_path(rf"^data-sources/{ID}/discoveries/(?P<discovery_id>\d+)/?$", views.DiscoveryView.as_view(),
            name="data-source-discovery"),
    re_path(rf"^data-sources/{ID}/schema/?$", views.SchemaView.as_view(), name="data-source-schema"),
]
