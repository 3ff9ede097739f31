from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.views import TokenRefreshView, TokenView
from datasources.connection_urls import urlpatterns as connection_urls
from datasources.storage_views import StoredFileViewSet
from datasources.views import DataSourceViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # both /data-sources and /data-sources/ work
router.register("data-sources", DataSourceViewSet, basename="data-source")
router.register("storage/files", StoredFileViewSet, basename="stored-file")

api_v1 = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="token"),
    re_path(r"^auth/token/refresh/?$", TokenRefreshView.as_view(), name="token-refresh"),
    *connection_urls,  # before the router: data-sources/types and /test-connection are not ids
    *router.urls,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler404 = "rivergen.views.not_found"
handler500 = "rivergen.views.server_error"
