"""Page-number pagination for the list endpoints, in the envelope.

``page`` starts at 1; a page past the end is a 404 (except page 1 of an empty
list, which is an empty page). ``page_size`` defaults to 20 and is capped at
100: a larger value gives pages of 100, and the response's ``page_size`` says so.
A ``page`` or ``page_size`` that is not a positive integer is a 400 (``rivergen.params``).
"""
from rest_framework.pagination import PageNumberPagination

from rivergen.api import success
from rivergen.openapi import PAGINATION_REF, envelope_schema
from rivergen.params import page_params

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class EnvelopePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self._numbers = page_params(
            request.query_params, default_size=self.page_size, max_size=self.max_page_size, clamp=True,
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return self._numbers[1]

    def get_page_number(self, request, paginator):
        return self._numbers[0]

    def get_paginated_response(self, data, message="Data sources retrieved successfully"):
        paginator = self.page.paginator
        return success(data, message, pagination={
            "page": self.page.number,
            "page_size": paginator.per_page,
            "total": paginator.count,
            "total_pages": paginator.num_pages if paginator.count else 0,
        })

    def get_paginated_response_schema(self, schema):
        # Already the envelope: the schema hook leaves it as it is.
        return envelope_schema(schema, pagination={"$ref": PAGINATION_REF})

    def get_schema_operation_parameters(self, view):
        return []  # the views declare page and page_size with their bounds
