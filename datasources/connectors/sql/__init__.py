"""The SQL family: SQLAlchemy engines, the cloud warehouses, one bulk schema introspection, driver error codes."""
