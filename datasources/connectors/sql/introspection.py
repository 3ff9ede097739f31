"""Schema introspection: one bulk query per kind of object (relations, columns, primary keys).

Each dialect gives three statements returning

- relations ``(schema, name, kind[, partition_count, comment[, key_positions]])``, where ``kind``
  is one of ``TABLE_KINDS`` or a true value meaning "view", and ``key_positions`` the primary
  key's column positions as space-separated text;
- columns ``(schema, table, column, type, nullable[, position, default, comment, generated,
  hidden])``; with ``position`` in any order (each table's columns are sorted by
  it), without it ordered by schema, table and column position (they are numbered in order);
- primary keys ``(schema, table, column)``, or no statement when the relations give key positions.

``:schema`` is bound to the schema to read, or NULL for every non-system schema. Partitions
and sequences are not relations here: a partitioned table is listed once, with its
``partition_count``.
"""
from dataclasses import dataclass

from datasources.connectors.base import TABLE_KINDS, DiscoveredColumn, DiscoveredTable


@dataclass(frozen=True)
class Queries:
    relations: str
    columns: str
    primary_keys: str | None  # None when the relations give the key's column positions
    # True when the login may read schema :schema (a connection test's read_catalogue step).
    schema_readable: str | None = None


_PG_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND (CAST(:schema AS text) IS NULL OR n.nspname = :schema)"""
_PG_RELKINDS = "c.relkind IN ('r', 'p', 'v', 'm', 'f')"
_PG_KIND = """CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view'
  WHEN 'p' THEN 'partitioned_table' WHEN 'f' THEN 'foreign_table' ELSE 'table' END"""
_PG_DESCRIPTION = "d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass"

# Type names come from format_type() read under ``search_path = pg_catalog`` (see
# PostgresConnector.prepare_session): pg_catalog's types are unqualified (``integer``,
# ``numeric(10,2)``) and every other type is schema-qualified (``public.mood``), whoever connects.
POSTGRES = Queries(
    relations=f"""SELECT n.nspname, c.relname, {_PG_KIND},
  CASE WHEN c.relkind = 'p' THEN (SELECT count(*) FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) END,
  d.description, (SELECT i.indkey::text FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND {_PG_DESCRIPTION} AND d.objsubid = 0
WHERE {_PG_RELKINDS} AND NOT c.relispartition AND {_PG_SCHEMAS}""",
    # nullable follows information_schema: NOT NULL on the column or on its domain.
    columns=f"""SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
  NOT (a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)), a.attnum,
  CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END, d.description,
  CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END, false
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND {_PG_DESCRIPTION} AND d.objsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND {_PG_RELKINDS} AND NOT c.relispartition AND {_PG_SCHEMAS}""",
    # Primary keys come with the relations, as the key's column numbers ("1 2"): one index lookup
    # per table, cheaper than a third query joining pg_index to pg_attribute.
    primary_keys=None,
    schema_readable="SELECT pg_catalog.has_schema_privilege(oid, 'USAGE') FROM pg_catalog.pg_namespace "
                    "WHERE nspname = :schema",
)

# Redshift speaks PostgreSQL 8.0: no partitions, no generated columns, primary keys only
# through information_schema.
REDSHIFT = Queries(
    relations=f"""SELECT n.nspname, c.relname, {_PG_KIND}, NULL, d.description
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0
WHERE c.relkind IN ('r', 'v') AND {_PG_SCHEMAS}""",
    columns=f"""SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
  NOT a.attnotnull, a.attnum
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v') AND {_PG_SCHEMAS}
ORDER BY n.nspname, c.relname, a.attnum""",
    primary_keys="""SELECT tc.table_schema, tc.table_name, kcu.column_name
FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
WHERE tc.constraint_type = 'PRIMARY KEY' AND (CAST(:schema AS text) IS NULL OR tc.table_schema = :schema)""",
    schema_readable="SELECT pg_catalog.has_schema_privilege(oid, 'USAGE') FROM pg_catalog.pg_namespace "
                    "WHERE nspname = :schema",
)

_MY_SCHEMAS = """t.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
  AND (:schema IS NULL OR t.TABLE_SCHEMA = :schema)"""

# The PARTITIONS subquery carries the schema filter itself: MariaDB does not push the outer one into
# it, and would open every table of every database on the server to count partitions.
# MariaDB's sequences (TABLE_TYPE 'SEQUENCE') and temporary tables are left out; a system-versioned
# table is a table. Views carry the comment 'VIEW', which is not the user's. COLUMN_DEFAULT is
# passed on as the server shows it (MariaDB: 'NULL' for a nullable column without a default).
MYSQL = Queries(
    relations=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME,
  CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 'view' WHEN p.n > 0 THEN 'partitioned_table' ELSE 'table' END,
  p.n, CASE WHEN t.TABLE_TYPE <> 'VIEW' THEN NULLIF(t.TABLE_COMMENT, '') END
FROM information_schema.TABLES t LEFT JOIN (
  SELECT TABLE_SCHEMA, TABLE_NAME, COUNT(DISTINCT PARTITION_NAME) AS n FROM information_schema.PARTITIONS
  WHERE PARTITION_NAME IS NOT NULL AND (:schema IS NULL OR TABLE_SCHEMA = :schema) GROUP BY TABLE_SCHEMA, TABLE_NAME
) p ON p.TABLE_SCHEMA = t.TABLE_SCHEMA AND p.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') AND {_MY_SCHEMAS}""",
    columns=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME, t.COLUMN_TYPE, t.IS_NULLABLE = 'YES',
  t.ORDINAL_POSITION, CASE WHEN COALESCE(t.GENERATION_EXPRESSION, '') = '' THEN t.COLUMN_DEFAULT END,
  NULLIF(t.COLUMN_COMMENT, ''), NULLIF(t.GENERATION_EXPRESSION, ''),
  t.EXTRA LIKE '%INVISIBLE%'
FROM information_schema.COLUMNS t WHERE {_MY_SCHEMAS} ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, t.ORDINAL_POSITION""",
    primary_keys=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE t
WHERE t.CONSTRAINT_NAME = 'PRIMARY' AND {_MY_SCHEMAS}""",
    schema_readable="SELECT COUNT(*) > 0 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :schema",
)

_MS_SCHEMAS = "t.TABLE_SCHEMA NOT IN ('sys', 'INFORMATION_SCHEMA') AND (:schema IS NULL OR t.TABLE_SCHEMA = :schema)"

SQLSERVER = Queries(
    relations=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 1 ELSE 0 END
FROM INFORMATION_SCHEMA.TABLES t WHERE {_MS_SCHEMAS}""",
    columns=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME, t.DATA_TYPE,
  CASE WHEN t.IS_NULLABLE = 'YES' THEN 1 ELSE 0 END, t.ORDINAL_POSITION, t.COLUMN_DEFAULT, NULL, NULL, 0
FROM INFORMATION_SCHEMA.COLUMNS t WHERE {_MS_SCHEMAS} ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, t.ORDINAL_POSITION""",
    primary_keys=f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, k.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS t
JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = t.CONSTRAINT_NAME AND k.TABLE_SCHEMA = t.TABLE_SCHEMA
WHERE t.CONSTRAINT_TYPE = 'PRIMARY KEY' AND {_MS_SCHEMAS}""",
)

_ORACLE_SYSTEM = ("SYS", "SYSTEM", "OUTLN", "XDB", "MDSYS", "CTXSYS", "ORDSYS", "DBSNMP", "APPQOSSYS",
                  "WMSYS", "GSMADMIN_INTERNAL", "OJVMSYS", "LBACSYS", "DVSYS", "AUDSYS", "ORDDATA", "OLAPSYS")
_OR_SCHEMAS = f"""owner NOT IN ({", ".join(f"'{o}'" for o in _ORACLE_SYSTEM)})
  AND (:schema IS NULL OR owner = :schema)"""

# A materialized view's container table is in all_tables too: listed once, as materialized_view.
ORACLE = Queries(
    relations=f"""SELECT owner, table_name, 'table' FROM all_tables WHERE {_OR_SCHEMAS}
  AND (owner, table_name) NOT IN (SELECT owner, mview_name FROM all_mviews)
UNION ALL SELECT owner, view_name, 'view' FROM all_views WHERE {_OR_SCHEMAS}
UNION ALL SELECT owner, mview_name, 'materialized_view' FROM all_mviews WHERE {_OR_SCHEMAS}""",
    columns=f"""SELECT owner, table_name, column_name, data_type, CASE WHEN nullable = 'Y' THEN 1 ELSE 0 END, column_id
FROM all_tab_columns WHERE {_OR_SCHEMAS} ORDER BY owner, table_name, column_id""",
    primary_keys=f"""SELECT c.owner, c.table_name, cc.column_name FROM all_constraints c
JOIN all_cons_columns cc ON cc.owner = c.owner AND cc.constraint_name = c.constraint_name
WHERE c.constraint_type = 'P' AND c.owner IN (SELECT username FROM all_users WHERE {_OR_SCHEMAS.replace("owner", "username")})""",
)


def _kind(value) -> str:
    if isinstance(value, str):
        return value if value in TABLE_KINDS else "table"
    return "view" if value else "table"


def assemble(relations, columns, primary_keys) -> list[DiscoveredTable]:
    """Join the three result sets into tables with their columns, in the database's order.

    The loop runs once per column of the whole schema (200,000 for a large one), so it looks a
    table up only when the table changes and keeps each table's key columns at hand.
    """
    tables, keys = {}, {}
    for row in relations:
        schema, name, kind = row[0], row[1], _kind(row[2])
        partitions, comment = (row[3], row[4]) if len(row) > 3 else (None, None)
        tables[(schema, name)] = DiscoveredTable(
            schema=schema, name=name, kind=kind, comment=comment,
            partition_count=int(partitions or 0) if kind == "partitioned_table" else None,
        )
        if len(row) > 5 and row[5]:
            keys[(schema, name)] = {int(n) for n in str(row[5]).split()}
    for schema, table_name, column in primary_keys or ():
        keys.setdefault((schema, table_name), set()).add(column)
    current, table, table_keys, no_keys = None, None, None, frozenset()
    columns = list(columns)
    for row in columns if not columns or len(columns[0]) > 9 else map(_full_row, columns):
        if (row[0], row[1]) != current:
            current = (row[0], row[1])
            table, table_keys = tables.get(current), keys.get(current, no_keys)
        if table is None:  # a sequence's or a partition's columns, or a relation of another kind
            continue
        name, data_type, nullable, position, default, comment, generated, hidden = row[2:]
        position = int(position or len(table.columns) + 1)
        table.columns.append(DiscoveredColumn(
            name, str(data_type), bool(nullable), name in table_keys or position in table_keys, position,
            None if default is None else str(default), comment, generated, bool(hidden),
        ))
    for table in tables.values():
        columns = table.columns
        if any(columns[i].position > columns[i + 1].position for i in range(len(columns) - 1)):
            columns.sort(key=lambda c: c.position)
    return sorted(tables.values(), key=lambda t: (t.schema or "", t.name))


def _full_row(row):
    """Rows without position and the other optional fields get them as None (numbered in order)."""
    return row if len(row) > 9 else (*row[:5], row[5] if len(row) > 5 else None, None, None, None, False)
