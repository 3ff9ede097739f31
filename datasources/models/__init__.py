"""The app's models, one import surface: sources, stored files and the discovered catalogue.

Table names and migrations are unchanged by the split into modules (the app label is still
``datasources``; the catalogue's tables keep their ``schematable``/``schemacolumn`` names).
"""
from datasources.models.catalogue import Discovery, SchemaColumn, SchemaTable
from datasources.models.changes import SchemaChange
from datasources.models.files import StoredFile
from datasources.models.sources import DataSource, Status, name_key

__all__ = ["DataSource", "Discovery", "SchemaChange", "SchemaColumn", "SchemaTable", "Status", "StoredFile", "name_key"]
