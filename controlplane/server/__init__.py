"""The control plane: REST API, domain services, reconcilers, models and store."""
