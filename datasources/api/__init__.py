"""The REST API of data sources: ViewSets and views, response serializers, pagination, routes.

Views parse nothing themselves: they hand the raw body to ``datasources.services`` and wrap
what comes back in the envelope (``rivergen.api``).
"""
