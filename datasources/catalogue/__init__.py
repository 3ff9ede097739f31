"""The discovered catalogue: storing a discovery's tables and columns, and reading them back.

(The models keep their historical table names ``schematable`` / ``schemacolumn``.)
"""
