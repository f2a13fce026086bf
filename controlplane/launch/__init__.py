"""This host's own weft: the control plane and a local agent as containers, and the world stack."""
