"""Database plumbing shared by every resource: model base, enum types, engine, unit of work."""
