"""Reads, one module per capability. Each takes the user (or a source read through
``sources.data_source_for``, which applies tenancy once) and writes nothing; the API, the admin
and the services call them. Query parameters are parsed by ``rivergen.params``."""
