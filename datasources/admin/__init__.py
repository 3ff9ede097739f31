"""The Django admin for data sources and stored files: model admins, forms, panels and their views.

Forms hand their values to ``datasources.services``; nothing here validates or writes alone.
Modules: ``sources`` and ``files`` (the model admins), ``forms`` and ``typeinfo`` (the type-aware
source form), ``views`` (test connection, discover, panel fragments), ``panels`` (the change
page's panel registry; see its docstring to add one), ``source_panels`` and ``watch_panels`` (the built-in panels: connection,
health history, discovery, schema changes, schema), ``audit_panel`` (the source's last audit events) and
``webhooks`` (webhooks and their deliveries, read-only: they are managed through the API).
"""
from django.contrib import admin

from datasources.admin import (  # noqa: F401  (register admins and panels)
    audit_panel,
    files,
    source_panels,
    sources,
    watch_panels,
    webhooks,
)

admin.site.site_header = "RiverGen"
admin.site.site_title = "RiverGen admin"
admin.site.index_title = "Data sources and their organizations"
