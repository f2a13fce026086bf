"""Read and write files inside a container through the engine's archive API.

The archive API works on created, running and stopped containers alike and
needs nothing (no shell, no tar) inside the image.
"""

import io
import tarfile
import time

import docker

from controlplane.agent.driver.engine import translate
from controlplane.agent.errors import DriverError, NotFound


def put_files(
    client: docker.DockerClient, container: str, files: dict[str, tuple[str, int]]
) -> None:
    """Write `{absolute path: (text, mode)}` into the container (parents are created)."""
    buf = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, (text, mode) in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, int(now)
            tar.addfile(info, io.BytesIO(data))
    with translate(f"write files into {container}"):
        if not client.api.put_archive(container, "/", buf.getvalue()):
            raise DriverError(f"the engine refused to write files into {container}")


def read_file(client: docker.DockerClient, container: str, path: str) -> str | None:
    """The text of `path` inside the container, or None if it does not exist."""
    try:
        with translate(f"read {path} in {container}"):
            stream, _stat = client.api.get_archive(container, path)
            raw = b"".join(stream)
    except NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                return handle.read().decode() if handle else None
    return None


def exec_ok(client: docker.DockerClient, container: str, cmd: list[str]) -> None:
    """Run `cmd` as root in the running container; DriverError unless it exits 0."""
    with translate(f"exec in {container}"):
        exec_id = client.api.exec_create(container, cmd, user="root")["Id"]
        output = client.api.exec_start(exec_id)
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    if code != 0:
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        raise DriverError(f"{' '.join(cmd)} in {container} exited {code}: {text.strip()}")
