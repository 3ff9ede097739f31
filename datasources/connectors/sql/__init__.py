"""The SQL family: SQLAlchemy engines, the cloud warehouses, one bulk catalogue reader, driver error codes."""
