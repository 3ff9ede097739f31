"""Bulk catalogue queries: one query per kind of object (relations, columns, primary keys).

Each dialect gives three statements returning
relations ``(schema, name, is_view)``, columns ``(schema, table, column, type, nullable)``
ordered by schema, table and column position, and primary keys ``(schema, table, column)``.
``:schema`` is bound to the schema to read, or NULL for every non-system schema.
"""
from dataclasses import dataclass

from datasources.connectors.base import DiscoveredColumn, DiscoveredTable


@dataclass(frozen=True)
class Catalogue:
    relations: str
    columns: str
    primary_keys: str


_PG_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND (CAST(:schema AS text) IS NULL OR n.nspname = :schema)"""

POSTGRES = Catalogue(
    relations=f"""SELECT n.nspname, c.relname, c.relkind IN ('v', 'm')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND {_PG_SCHEMAS}""",
    columns=f"""SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_PG_SCHEMAS}
ORDER BY n.nspname, c.relname, a.attnum""",
    primary_keys=f"""SELECT n.nspname, c.relname, a.attname
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
WHERE i.indisprimary AND {_PG_SCHEMAS}""",
)

# Redshift speaks PostgreSQL 8.0: no partitions, primary keys only through information_schema.
REDSHIFT = Catalogue(
    relations=POSTGRES.relations.replace("AND NOT c.relispartition ", ""),
    columns=POSTGRES.columns,
    primary_keys="""SELECT tc.table_schema, tc.table_name, kcu.column_name
FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
WHERE tc.constraint_type = 'PRIMARY KEY' AND (CAST(:schema AS text) IS NULL OR tc.table_schema = :schema)""",
)

_MY_SCHEMAS = """TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
  AND (:schema IS NULL OR TABLE_SCHEMA = :schema)"""

MYSQL = Catalogue(
    relations=f"SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE = 'VIEW' FROM information_schema.TABLES WHERE {_MY_SCHEMAS}",
    columns=f"""SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS WHERE {_MY_SCHEMAS} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION""",
    primary_keys=f"""SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE CONSTRAINT_NAME = 'PRIMARY' AND {_MY_SCHEMAS}""",
)

_MS_SCHEMAS = "t.TABLE_SCHEMA NOT IN ('sys', 'INFORMATION_SCHEMA') AND (:schema IS NULL OR t.TABLE_SCHEMA = :schema)"

SQLSERVER = Catalogue(
    relations=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 1 ELSE 0 END
FROM INFORMATION_SCHEMA.TABLES t WHERE {_MS_SCHEMAS}""",
    columns=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME, t.DATA_TYPE, CASE WHEN t.IS_NULLABLE = 'YES' THEN 1 ELSE 0 END
FROM INFORMATION_SCHEMA.COLUMNS t WHERE {_MS_SCHEMAS} ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, t.ORDINAL_POSITION""",
    primary_keys=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, k.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS t
JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = t.CONSTRAINT_NAME AND k.TABLE_SCHEMA = t.TABLE_SCHEMA
WHERE t.CONSTRAINT_TYPE = 'PRIMARY KEY' AND {_MS_SCHEMAS}""",
)

_ORACLE_SYSTEM = ("SYS", "SYSTEM", "OUTLN", "XDB", "MDSYS", "CTXSYS", "ORDSYS", "DBSNMP", "APPQOSSYS",
                  "WMSYS", "GSMADMIN_INTERNAL", "OJVMSYS", "LBACSYS", "DVSYS", "AUDSYS", "ORDDATA", "OLAPSYS")
_OR_SCHEMAS = f"""owner NOT IN ({", ".join(f"'{o}'" for o in _ORACLE_SYSTEM)})
  AND (:schema IS NULL OR owner = :schema)"""

ORACLE = Catalogue(
    relations=f"""SELECT owner, table_name, 0 FROM all_tables WHERE {_OR_SCHEMAS}
UNION ALL SELECT owner, view_name, 1 FROM all_views WHERE {_OR_SCHEMAS}""",
    columns=f"""SELECT owner, table_name, column_name, data_type, CASE WHEN nullable = 'Y' THEN 1 ELSE 0 END
FROM all_tab_columns WHERE {_OR_SCHEMAS} ORDER BY owner, table_name, column_id""",
    primary_keys=f"""SELECT c.owner, c.table_name, cc.column_name FROM all_constraints c
JOIN all_cons_columns cc ON cc.owner = c.owner AND cc.constraint_name = c.constraint_name
WHERE c.constraint_type = 'P' AND c.owner IN (SELECT username FROM all_users WHERE {_OR_SCHEMAS.replace("owner", "username")})""",
)


def assemble(relations, columns, primary_keys) -> list[DiscoveredTable]:
    """Join the three result sets into tables with numbered columns, in catalogue order."""
    tables = {
        (schema, name): DiscoveredTable(schema=schema, name=name, kind="view" if is_view else "table")
        for schema, name, is_view in relations
    }
    keys = {tuple(row) for row in primary_keys}
    for schema, table_name, column, data_type, nullable in columns:
        table = tables.get((schema, table_name))
        if table is None:
            continue
        table.columns.append(DiscoveredColumn(
            name=column, data_type=str(data_type), nullable=bool(nullable),
            primary_key=(schema, table_name, column) in keys, position=len(table.columns) + 1,
        ))
    return sorted(tables.values(), key=lambda t: (t.schema or "", t.name))
