"""The Django admin for data sources and stored files: model admins, forms, and their views.

Forms hand their values to ``datasources.services``; nothing here validates or writes alone.
Webhooks and their deliveries are shown read-only (they are managed through the API).
"""
from datasources.admin import sources  # noqa: F401  (registers the model admins)
from datasources.admin import webhooks  # noqa: F401  (registers the read-only webhook admins)
