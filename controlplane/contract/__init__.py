"""The wire between the control plane and its agents: schemas, labels, problem+json, link files.

Imported by both sides; imports neither."""
