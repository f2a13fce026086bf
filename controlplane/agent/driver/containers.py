"""Containers: ensure by spec hash, inspect, list, delete, restart, logs."""

from contextlib import suppress
from functools import partial
from typing import Any

import docker
from docker.types import Healthcheck
from docker.types import Mount as DockerMount

from controlplane.agent.driver import inspections
from controlplane.agent.driver.engine import NAME_LOCKS, inspect_each, managed_filters, translate
from controlplane.agent.driver.linkset import (
    apply_links,
    bare,
    inspect_managed,
    stored_links,
    write_hosts,
)
from controlplane.agent.driver.state import to_state
from controlplane.agent.errors import ImageMissing, NotFound
from controlplane.contract import labels as L
from controlplane.contract import linkfiles as F
from controlplane.contract.schemas import ContainerEnsureResult, ContainerSpec, ContainerState

_NS = 1_000_000_000


def _inspect(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    try:
        return inspect_managed(client, name)
    except NotFound:
        return None


def _ensure_volumes(client: docker.DockerClient, spec: ContainerSpec, owner: str) -> None:
    """Create missing named volumes with weft's labels (the engine would create them bare)."""
    for mount in spec.mounts:
        if mount.type != "volume" or not mount.source:
            continue
        with translate(f"volume {mount.source}"):
            try:
                client.api.inspect_volume(mount.source)
            except docker.errors.NotFound:
                labels = L.managed_labels(owner, {k: v for k, v in spec.labels.items()})
                client.api.create_volume(mount.source, labels=labels)


def _host_config(client: docker.DockerClient, spec: ContainerSpec) -> dict[str, Any]:
    bindings: dict[str, list[tuple[str, int | None]]] = {}
    for p in spec.published_ports:
        bindings.setdefault(f"{p.container_port}/{p.protocol}", []).append((p.host_ip, p.host_port))
    mode = spec.networks[0].name if spec.networks else spec.network_mode
    mounts = [
        DockerMount(target=m.target, source=m.source or None, type=m.type, read_only=m.read_only)
        for m in spec.mounts
    ]
    policy: dict[str, Any] = {
        "Name": "" if spec.restart_policy.name == "no" else spec.restart_policy.name
    }
    if spec.restart_policy.name == "on-failure":
        policy["MaximumRetryCount"] = spec.restart_policy.maximum_retry_count
    config: dict[str, Any] = client.api.create_host_config(
        port_bindings=bindings or None,
        network_mode=mode,
        restart_policy=policy,
        dns=spec.dns or None,
        dns_search=spec.dns_search or None,
        extra_hosts=spec.extra_hosts or None,
        mounts=mounts or None,
        init=spec.init or None,
    )
    return config


def _healthcheck(spec: ContainerSpec) -> Healthcheck | None:
    h = spec.healthcheck
    if h is None:
        return None
    return Healthcheck(
        test=h.test,
        interval=int(h.interval_s * _NS),
        timeout=int(h.timeout_s * _NS),
        retries=h.retries,
        start_period=int(h.start_period_s * _NS),
    )


def _image_missing(spec: ContainerSpec) -> ImageMissing:
    return ImageMissing(
        f"image {spec.image} is not on this host; upload it with PUT /v1/images",
        ["body", "image"],
    )


def _require_image(client: docker.DockerClient, spec: ContainerSpec) -> None:
    """ImageMissing unless the engine has the spec's image (no registry to pull from)."""
    with translate(f"image {spec.image}"):
        try:
            client.api.inspect_image(spec.image)
        except docker.errors.NotFound as exc:
            raise _image_missing(spec) from exc


def _create(client: docker.DockerClient, name: str, spec: ContainerSpec, owner: str) -> str:
    """Create (not start) the container; returns its id."""
    if any(m.type == "volume" and m.source for m in spec.mounts):
        _require_image(client, spec)  # no volume is made for a container that cannot come
    _ensure_volumes(client, spec, owner)
    labels = L.managed_labels(owner, spec.labels)
    labels[L.SPEC_HASH] = spec.computed_hash()
    env = {**F.link_env(name, spec.links), **spec.env}
    ports = {(p.port, p.protocol) for p in spec.exposed_ports}
    ports |= {(p.container_port, p.protocol) for p in spec.published_ports}
    networking = None
    if spec.networks:
        first = spec.networks[0]
        endpoint = client.api.create_endpoint_config(
            aliases=first.aliases or None, ipv4_address=first.ipv4_address
        )
        networking = client.api.create_networking_config({first.name: endpoint})
    try:
        with translate(f"create container {name}"):
            created = client.api.create_container(
                spec.image,
                command=spec.command,
                entrypoint=spec.entrypoint,
                name=name,
                environment=env,
                labels=labels,
                ports=sorted(ports) or None,
                host_config=_host_config(client, spec),
                networking_config=networking,
                hostname=spec.hostname,
                working_dir=spec.working_dir,
                user=spec.user or None,
                healthcheck=_healthcheck(spec),
                stop_timeout=spec.stop_timeout_s,
                detach=True,
                use_config_proxy=False,
            )
    except ImageMissing as exc:  # the engine's 404 is no guide to what to do: ours is
        raise _image_missing(spec) from exc
    cid: str = created["Id"]
    # API 1.41 takes one network at creation; join the others before the start.
    with translate(f"networks of container {name}"):
        for extra in spec.networks[1:]:
            client.api.connect_container_to_network(
                cid, extra.name, aliases=extra.aliases or None, ipv4_address=extra.ipv4_address
            )
    return cid


def _start(client: docker.DockerClient, cid: str) -> dict[str, Any]:
    with translate(f"start container {cid[:12]}"):
        client.api.start(cid)
        inspections.changed(client, cid)
        data: dict[str, Any] = client.api.inspect_container(cid)
    return data


def _remove(client: docker.DockerClient, data: dict[str, Any]) -> None:
    timeout = (data.get("Config") or {}).get("StopTimeout") or 10
    with translate(f"remove container {data['Name'].lstrip('/')}"):
        if data["State"].get("Running"):
            client.api.stop(data["Id"], timeout=timeout)
        client.api.remove_container(data["Id"], force=True)
        inspections.changed(client, data["Id"], gone=True)


def _sync_links(client: docker.DockerClient, data: dict[str, Any], spec: ContainerSpec) -> None:
    """Apply the spec's link set if it differs from the one stored in the container."""
    stored = stored_links(client, data["Id"])
    if stored is None and not spec.links:
        return
    if stored != spec.links:
        apply_links(client, data, spec.links)
    elif data["State"].get("Running"):
        write_hosts(client, data, F.hosts_lines(spec.links))  # restores a lost block


def _namespace_current(
    client: docker.DockerClient, data: dict[str, Any], spec: ContainerSpec
) -> bool:
    """False when a container:X container is joined to a namespace X no longer owns.

    The engine pins container:X to X's id; once X is recreated the old namespace
    is gone and only recreating this container joins the new one.
    """
    if not spec.network_mode.startswith("container:"):
        return True
    target = spec.network_mode.partition(":")[2]
    try:
        with translate(f"container {target}"):
            target_id = client.api.inspect_container(target)["Id"]
    except NotFound:
        return True  # nothing better to join; the start will report it
    return bool(data["HostConfig"].get("NetworkMode") == f"container:{target_id}")


def ensure_container(
    client: docker.DockerClient, name: str, spec: ContainerSpec, owner: str
) -> ContainerEnsureResult:
    """Create+start, leave (start if stopped), or recreate when the spec hash changed."""
    with NAME_LOCKS.hold(name):
        data = _inspect(client, name)
        action = "created"
        if data is not None:
            labels = data["Config"].get("Labels") or {}
            if labels.get(L.SPEC_HASH) == spec.computed_hash() and _namespace_current(
                client, data, spec
            ):
                action = "unchanged"
                if spec.running and not data["State"].get("Running"):
                    data = _start(client, data["Id"])
                    action = "started"
                _sync_links(client, data, spec)
                return _result(action, data)
            _require_image(client, spec)  # keep the old container if the new cannot come
            _remove(client, data)
            action = "recreated"
        cid = _create(client, name, spec, owner)
        if not spec.links:
            bare(cid)  # its start has no link set to re-apply: none is read back
        data = _start(client, cid) if spec.running else _inspect_id(client, cid)
        if spec.links:
            apply_links(client, data, spec.links)
        return _result(action, data)


def _inspect_id(client: docker.DockerClient, cid: str) -> dict[str, Any]:
    with translate(f"container {cid[:12]}"):
        data: dict[str, Any] = client.api.inspect_container(cid)
    return data


def _result(action: str, data: dict[str, Any]) -> ContainerEnsureResult:
    """The ensure's answer from the inspect data it ended with (no second inspect)."""
    return ContainerEnsureResult.model_validate({"action": action, "container": to_state(data)})


def get_container(client: docker.DockerClient, name: str) -> ContainerState:
    """A weft container's state (NotFound / Conflict if not weft's)."""
    return to_state(inspect_managed(client, name))


def list_containers(client: docker.DockerClient, label_filters: list[str]) -> list[ContainerState]:
    """Containers labelled weft.managed=true (and every `k=v` of `label_filters`)."""
    with translate("list containers"):
        summaries = client.api.containers(all=True, filters=managed_filters(label_filters))
    kept = inspections.of(client)

    def state(summary: dict[str, Any]) -> ContainerState:
        inspect = partial(client.api.inspect_container, summary["Id"])
        return to_state(inspect()) if kept is None else kept.state(summary, inspect, to_state)

    out = inspect_each(summaries, lambda s: f"container {s['Id'][:12]}", state)
    return sorted(out, key=lambda c: c.name)


def delete_container(client: docker.DockerClient, name: str) -> None:
    """Stop and remove a weft container; absent is fine."""
    with NAME_LOCKS.hold(name):
        data = _inspect(client, name)
        if data is not None:
            with suppress(NotFound):  # removed meanwhile
                _remove(client, data)


def restart_container(client: docker.DockerClient, name: str) -> ContainerState:
    """Restart (or start) a weft container and re-apply its links."""
    with NAME_LOCKS.hold(name):
        data = inspect_managed(client, name)
        timeout = (data.get("Config") or {}).get("StopTimeout") or 10
        with translate(f"restart container {name}"):
            client.api.restart(data["Id"], timeout=timeout)
            inspections.changed(client, data["Id"])
            data = client.api.inspect_container(data["Id"])
        links = stored_links(client, data["Id"])
        if links is not None:
            apply_links(client, data, links)
        return to_state(data)


def container_logs(client: docker.DockerClient, name: str, tail: int | None) -> str:
    """The container's last `tail` lines (all if None) of stdout and stderr."""
    data = inspect_managed(client, name)
    with translate(f"logs of {name}"):
        raw = client.api.logs(
            data["Id"], stdout=True, stderr=True, tail=tail if tail is not None else "all"
        )
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
