"""The gRPC service: see README.md for the map of this package."""
