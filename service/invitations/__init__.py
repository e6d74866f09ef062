"""The invitations resource: copy this folder to add a resource of your own.

A request goes straight down and back up:
servicer.py (gRPC <-> domain, via convert.py) -> logic.py (rules) -> storage.py (SQL)
-> models.py (the table). events.py streams changes to WatchInvitations.
"""
