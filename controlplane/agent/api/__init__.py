"""The agent's HTTP routes: one module per resource, each a thin shell over the driver."""
