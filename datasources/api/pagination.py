"""Page-number pagination for the list endpoints, in the envelope.

``page`` starts at 1; a page past the end is a 404 (except page 1 of an empty
list, which is an empty page). ``page_size`` defaults to 20 and is capped at
100: a larger value gives pages of 100, and the response's ``page_size`` says so.
A ``page`` or ``page_size`` that is not a positive integer is a 400.
"""
from django.core.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from rivergen.api import success

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _positive_int(params, name):
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValidationError({name: ["Must be a positive integer."]})
    return int(raw)


class EnvelopePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        size = _positive_int(request.query_params, self.page_size_query_param)
        return min(size, self.max_page_size) if size else self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int(request.query_params, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data, message="Data sources retrieved successfully"):
        paginator = self.page.paginator
        return success(data, message, pagination={
            "page": self.page.number,
            "page_size": paginator.per_page,
            "total": paginator.count,
            "total_pages": paginator.num_pages if paginator.count else 0,
        })

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "data": schema,
                "message": {"type": "string"},
                "pagination": {
                    "type": "object",
                    "properties": {
                        name: {"type": "integer"} for name in ("page", "page_size", "total", "total_pages")
                    },
                },
            },
        }
