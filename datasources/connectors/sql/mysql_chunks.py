"""Reading a MySQL or MariaDB catalogue a chunk of tables at a time (the reader of sql/chunks.py's kind).

One connection reads page after page, each page a key range of tables in byte order of
``(schema, name)`` (keyset pagination, ``CAST(... AS BINARY)``: UTF-8 byte order is Python's
``str`` order, and two names differing only in case stay two tables):

1. the page's names, read ``NAME_PAGES`` pages at a time after the last key: a name-only read of
   information_schema.TABLES, which MariaDB answers from the directory without opening a table;
2. the page's relations, their primary keys (STATISTICS, index ``PRIMARY``: the same columns as
   KEY_COLUMN_USAGE's ``PRIMARY`` constraint, read from the table definition where
   KEY_COLUMN_USAGE opens every table), partition counts (from InnoDB's dictionary, read once, where
   it answers: PARTITIONS opens every table) and a per-table digest of its columns
   computed by the server (MD5 over each column's fields, in ordinal order). Every one is
   bounded by the page's key range, which MariaDB applies before it opens a table: a page costs
   its own tables, never the whole schema's (an ``IN`` list of 1,000 or more would not be).
3. the columns of the tables ``choose`` wants: the whole range when it wants most of the page,
   else ``IN`` lists of at most ``IN_LIST`` names.

A table's fingerprint hashes everything the read passes on for it (kind, comment, partition
count, primary key, the server's digest of its columns), so an equal fingerprint means an equal
table: the incremental and the full refresh store the same catalogue and record the same changes.

information_schema is not transactional (MariaDB fills it from the table definitions when asked;
a consistent-snapshot transaction does not cover it), so there is no snapshot of the whole
catalogue: each query sees the definitions as they are. What holds: a table's fingerprint is read
before its columns, so a table altered while it is read is stored with an older fingerprint than
its columns, and the next refresh reads it again (finding it equal, or the change); never the
reverse. A table created or dropped during the discovery is listed or not according to when its
page is read.
"""
import hashlib
import re

from datasources.connectors.base import gc_paused
from datasources.connectors.sql import introspection

CHUNK = 2000  # tables per page: about 40,000 columns in memory at a time
NAME_PAGES = 10  # pages of names per query: 20,000 names (about 2 MB) held at a time
IN_LIST = 500  # names per IN (...): MariaDB turns 1,000 or more into a join that opens every table
# A column's digest is 32 characters: 4,096 columns (MariaDB's maximum) need 135,168 of them.
GROUP_CONCAT_LEN = 1 << 24

_KEY = "CAST(t.TABLE_SCHEMA AS BINARY), CAST(t.TABLE_NAME AS BINARY)"
_AFTER = f"(:after_schema IS NULL OR ({_KEY}) > (CAST(:after_schema AS BINARY), CAST(:after_name AS BINARY)))"
_RANGE = f"""{introspection._MY_SCHEMAS} AND {_AFTER}
  AND ({_KEY}) <= (CAST(:last_schema AS BINARY), CAST(:last_name AS BINARY))"""

NAMES = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME FROM information_schema.TABLES t
WHERE {introspection._MY_SCHEMAS} AND {_AFTER} ORDER BY {_KEY} LIMIT :limit"""

RELATIONS = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME,
  CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END,
  CASE WHEN t.TABLE_TYPE <> 'VIEW' THEN NULLIF(t.TABLE_COMMENT, '') END, t.ENGINE
FROM information_schema.TABLES t
WHERE t.TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') AND {_RANGE}"""

PARTITIONS = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, COUNT(DISTINCT t.PARTITION_NAME)
FROM information_schema.PARTITIONS t WHERE t.PARTITION_NAME IS NOT NULL AND {_RANGE}
GROUP BY {_KEY}"""

PARTITIONS_OF = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, COUNT(DISTINCT t.PARTITION_NAME)
FROM information_schema.PARTITIONS t WHERE t.PARTITION_NAME IS NOT NULL
  AND t.TABLE_SCHEMA = :in_schema AND t.TABLE_NAME IN :names GROUP BY {_KEY}"""

# InnoDB's own dictionary names each partition ('schema/table#P#part', '#SP#' before a subpartition)
# without opening any table, where PARTITIONS opens every one (most of a page's time on MariaDB). It
# needs the PROCESS privilege and spells names as files do: without it, or on a server without this
# view (MySQL 8, whose PARTITIONS reads its data dictionary), PARTITIONS is read per page.
INNODB_PARTITIONS = "SELECT NAME FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE '%#P#%'"
_SIMPLE = re.compile(r"[A-Za-z0-9_]+\Z")  # names a file spells as they are

PRIMARY_KEYS = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.COLUMN_NAME FROM information_schema.STATISTICS t
WHERE t.INDEX_NAME = 'PRIMARY' AND {_RANGE} ORDER BY {_KEY}, t.SEQ_IN_INDEX"""

# QUOTE() spells NULL and '' apart; each column's MD5 is 32 characters, joined in ordinal order.
DIGESTS = f"""SELECT t.TABLE_SCHEMA, t.TABLE_NAME, COUNT(*), MD5(GROUP_CONCAT(MD5(CONCAT_WS(',',
    QUOTE(t.COLUMN_NAME), QUOTE(t.COLUMN_TYPE), QUOTE(t.IS_NULLABLE), t.ORDINAL_POSITION,
    QUOTE(t.COLUMN_DEFAULT), QUOTE(t.COLUMN_COMMENT), QUOTE(t.GENERATION_EXPRESSION), QUOTE(t.EXTRA)))
  ORDER BY t.ORDINAL_POSITION SEPARATOR ''))
FROM information_schema.COLUMNS t WHERE {_RANGE} GROUP BY {_KEY}"""

_COLUMNS = introspection.MYSQL.columns.split(" ORDER BY ")[0]
COLUMNS_IN_RANGE = f"{_COLUMNS} AND {_RANGE} ORDER BY {_KEY}, t.ORDINAL_POSITION"
COLUMNS_OF = f"{_COLUMNS} AND t.TABLE_SCHEMA = :in_schema AND t.TABLE_NAME IN :names"


def _rows(conn, sql, params, expanding=()):
    """The driver's plain tuples (as SqlAlchemyConnector.read_tables reads them)."""
    from sqlalchemy import bindparam, text

    statement = text(sql).bindparams(*(bindparam(name, expanding=True) for name in expanding))
    result = conn.execute(statement, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _fingerprint(relation, partitions, keys, digest) -> str:
    if digest is None:  # a table without readable columns: always read it
        return ""
    return hashlib.md5(repr((relation[2], relation[3], partitions, keys, digest)).encode()).hexdigest()


def mysql_chunks(conn, schema, choose):
    """The reader generator over a connection prepared for discovery (see the module docstring)."""
    from sqlalchemy import text

    # Bounds GROUP_CONCAT (MySQL's default is 1,024 bytes: a 33-column table's digest would be cut).
    conn.execute(text(f"SET SESSION group_concat_max_len = GREATEST(@@group_concat_max_len, {GROUP_CONCAT_LEN})"))
    dictionary = _innodb_partitions(conn)
    for after, last in _pages(conn, schema):
        params = {"schema": schema, "after_schema": after[0], "after_name": after[1],
                  "last_schema": last[0], "last_name": last[1]}
        relations = _rows(conn, RELATIONS, params)
        partitions = _partitions(conn, params, relations, dictionary)
        keys = {}
        for s, n, column in _rows(conn, PRIMARY_KEYS, params):
            keys.setdefault((s, n), []).append(column)
        digests = {(s, n): (count, digest) for s, n, count, digest in _rows(conn, DIGESTS, params)}
        listed = [((s, n), s, n, _fingerprint(r, partitions.get((s, n)), keys.get((s, n)), digests.get((s, n))))
                  for r in relations for s, n in [r[:2]]]
        wanted = choose(listed)
        column_rows = _columns(conn, params, wanted, len(listed)) if wanted else []
        with gc_paused():  # only while building: the generator waits with the collector as it found it
            relation_rows = [(s, n, "partitioned_table" if partitions.get((s, n)) and kind == "table" else kind,
                              partitions.get((s, n)), comment)
                             for s, n, kind, comment, _ in relations if (s, n) in wanted]
            key_rows = [(s, n, column) for s, n in wanted for column in keys.get((s, n), ())]
            tables = introspection.assemble(relation_rows, column_rows, key_rows) if wanted else []
        yield listed, tables


def _pages(conn, schema):
    """The pages' key ranges ``(after, last)``; names are read NAME_PAGES pages at a time, because
    MariaDB lists (and sorts) every remaining name of the schema to answer each such query."""
    after = (None, None)
    while True:
        names = _rows(conn, NAMES, {"schema": schema, "after_schema": after[0], "after_name": after[1],
                                    "limit": CHUNK * NAME_PAGES})
        for start in range(0, len(names), CHUNK):
            last = tuple(names[min(start + CHUNK, len(names)) - 1])
            yield after, last
            after = last
        if len(names) < CHUNK * NAME_PAGES:
            return


def _innodb_partitions(conn) -> dict | None:
    """{(schema, table): partition count} of the server's partitioned InnoDB tables with plain names
    (read once), or None when InnoDB's dictionary cannot be read or names may differ from file names."""
    from sqlalchemy.exc import DBAPIError

    try:
        if int(_rows(conn, "SELECT @@lower_case_table_names", {})[0][0]) == 2:  # names kept, files lowercased
            return None
        rows = _rows(conn, INNODB_PARTITIONS, {})
    except DBAPIError:
        return None
    found = {}
    for (name,) in rows:
        schema, _, rest = name.partition("/")
        at = rest.upper().find("#P#")
        table, part = rest[:at], rest[at + 3:]
        part = part[:part.upper().find("#SP#")] if "#SP#" in part.upper() else part
        if _SIMPLE.match(schema) and _SIMPLE.match(table):
            found.setdefault((schema, table), set()).add(part)
    return {key: len(parts) for key, parts in found.items()}


def _partitions(conn, params, relations, dictionary) -> dict:
    """The page's partition counts: from InnoDB's dictionary where it answers, else from PARTITIONS."""
    if dictionary is None:
        return {(s, n): count for s, n, count in _rows(conn, PARTITIONS, params)}
    found, others = {}, {}
    for s, n, kind, _, engine in relations:
        if engine == "InnoDB" and _SIMPLE.match(s) and _SIMPLE.match(n):
            if (s, n) in dictionary:
                found[(s, n)] = dictionary[(s, n)]
        elif kind != "view":
            others.setdefault(s, []).append(n)
    for s, names in others.items():
        for start in range(0, len(names), IN_LIST):
            rows = _rows(conn, PARTITIONS_OF, {"in_schema": s, "names": names[start:start + IN_LIST]},
                         expanding=("names",))
            found.update(((schema, name), count) for schema, name, count in rows)
    return found


def _columns(conn, params, wanted, listed) -> list:
    """The columns of the ``wanted`` tables of the page, in table order then ordinal position."""
    if len(wanted) * 2 >= listed:
        return [row for row in _rows(conn, COLUMNS_IN_RANGE, params) if (row[0], row[1]) in wanted]
    rows, by_schema = [], {}
    for s, n in sorted(wanted):
        by_schema.setdefault(s, []).append(n)
    for s, names in by_schema.items():
        for start in range(0, len(names), IN_LIST):
            rows += _rows(conn, COLUMNS_OF, {**params, "in_schema": s, "names": names[start:start + IN_LIST]},
                          expanding=("names",))
    return rows
