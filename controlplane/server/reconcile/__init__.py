"""Converging hosts to the desired state: a pure planner and a runner per host."""
