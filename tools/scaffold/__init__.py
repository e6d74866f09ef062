"""Project tooling: `make resource` and `make remove-resource` (see __main__.py)."""
