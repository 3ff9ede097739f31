"""The base of the /api/v1 collections (data sources, webhooks)."""
from rest_framework import viewsets

from datasources.api.pagination import EnvelopePagination


class ResourceViewSet(viewsets.GenericViewSet):
    """A collection under /api/v1 with integer ids; PUT (a full replacement) and PATCH both go
    to ``self._update(request, partial=...)``."""

    lookup_value_regex = r"\d+"
    pagination_class = EnvelopePagination

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)
