"""The ${p} resource. A request goes straight down and back up:

servicer.py (gRPC <-> domain, via convert.py) -> logic.py (rules) -> storage.py (runs sql.py,
which `make generate` compiles from the statements of queries.py) -> models.py (the table);
resource.py plugs it into the server (service/resources.py).
"""
