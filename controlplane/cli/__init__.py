"""The `weft` command line and its client of the control plane's REST API."""
