"""Which base an image builds on: the engine's own default if it has one, else offline."""

import docker

from controlplane.build.base import BASES, DEFAULT_CACHE
from controlplane.build.images import choose_base


def test_a_local_default_base_is_used_as_is(docker_client, base_python_image):
    assert choose_base(base_python_image, "mariadb", docker_client, False, DEFAULT_CACHE) == (
        base_python_image
    )


def test_a_missing_default_is_pulled_only_when_asked(docker_client, base_python_image):
    absent = "wefttest-no-such-base:1"
    assert choose_base(absent, "python", docker_client, True, DEFAULT_CACHE) is None
    assert choose_base(absent, "python", docker_client, False, DEFAULT_CACHE) == (
        BASES["python"].tag
    )


def test_offline_bases_run_their_interpreters(
    docker_client: docker.DockerClient, base_python_image
):
    out = docker_client.containers.run(
        base_python_image,
        ["python3", "-c", "import sys, venv; print(sys.version_info[:2])"],
        remove=True,
        labels={"weft.test": "1"},
    )
    assert out.decode().strip() == "(3, 11)"
