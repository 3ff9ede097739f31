"""The Django admin for data sources and stored files: model admins, forms, and their views.

Forms hand their values to ``datasources.services``; nothing here validates or writes alone.
"""
from datasources.admin import sources  # noqa: F401  (registers the model admins)
