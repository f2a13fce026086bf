"""The host's half of overlay networks: the VXLAN device and its Docker bridge network."""
