"""Database plumbing shared by every resource: the model base, enum types, the connection pool
(database.py), compiled statements, migrations and the local development PostgreSQL."""
