"""The gRPC service: see docs/architecture.md for the map of this package."""
