"""Stacks: compose files parsed, checked and placed (pure: no I/O, no server imports)."""
