"""The wires between weft's parts: control plane and agents (schemas, labels, problem+json,
link files), and control plane and CLI (apitypes: the REST API's container types).

Imported by every side; imports none of them."""
