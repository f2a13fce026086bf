"""Domain logic of the control plane: what the API asks for, checked and recorded."""
