"""The per-host agent: a narrow authenticated HTTP API over the local Docker engine."""
