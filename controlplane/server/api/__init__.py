"""HTTP edge of the control plane: one router per resource, thin."""
