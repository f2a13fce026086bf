"""The agent's Docker layer: blocking docker SDK calls, errors translated once here.

Every function takes a `docker.DockerClient` and blocks; routes run them in a
worker thread so the event loop never waits on the engine.
"""
