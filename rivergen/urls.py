from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from rest_framework.routers import SimpleRouter

from accounts.api_key_views import ApiKeyViewSet
from accounts.audit_api import AuditEventsExportView, AuditEventsView
from accounts.views import TokenRefreshView, TokenView
from rivergen.health import healthz, readyz
from rivergen.views import api_not_found, favicon
from datasources.api.urls import urlpatterns as datasource_urls

accounts_router = SimpleRouter()
accounts_router.trailing_slash = "/?"
accounts_router.register("api-keys", ApiKeyViewSet, basename="api-key")

api_v1 = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="token"),
    re_path(r"^auth/token/refresh/?$", TokenRefreshView.as_view(), name="token-refresh"),
    re_path(r"^audit-events/?$", AuditEventsView.as_view(), name="audit-events"),
    re_path(r"^audit-events/export/?$", AuditEventsExportView.as_view(), name="audit-events-export"),
    *datasource_urls,
    *accounts_router.urls,
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    re_path(r"^api/", api_not_found),  # last: any other /api/ path is the envelope's 404
]

handler404 = "rivergen.views.not_found"
handler500 = "rivergen.views.server_error"
