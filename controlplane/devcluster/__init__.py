"""A test cluster on one machine: N hosts as network namespaces on an underlay bridge.

Each host has its own dockerd and its own `weft agent`; a control plane in the
root namespace reaches every agent over the underlay. Used by the tests'
session fixture and by `weft dev cluster up/down`.
"""
