"""The invitations resource: copy this folder to add a resource of your own.

A request goes straight down and back up:
servicer.py (gRPC <-> domain, via convert.py) -> logic.py (rules) -> storage.py, which runs
sql.py (the statements of queries.py, on models.py's table, compiled by `make generate`).
events.py streams changes to WatchInvitations.
"""
