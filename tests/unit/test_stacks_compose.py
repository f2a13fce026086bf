"""Compose files mapped to weft's stack types; every refusal names its path."""

import textwrap

import pytest

from controlplane.stacks.compose import parse_stack
from controlplane.stacks.graph import waves
from controlplane.stacks.problems import ComposeInvalid
from controlplane.stacks.spec import Condition, Constraint, Port

WORLD = textwrap.dedent(
    """
    name: world
    services:
      worlddb:
        image: weft/worlddb:0.1.0
        environment:
          MARIADB_DATABASE: world
          LOAD: "true"
        volumes: [worlddata:/var/lib/mysql]
        healthcheck:
          test: ["CMD", "/usr/local/bin/healthcheck"]
          interval: 2s
          timeout: 1m30s
          retries: 60
          start_period: 500ms
        deploy:
          placement:
            constraints: [node.hostname == h1]
      searchapi:
        image: weft/searchapi:0.1.0
        command: python3 -m searchapi --port "8080"
        env_file: [search.env]
        ports: ["127.0.0.1:8080:8080", {target: 9000, published: "9001", protocol: udp}]
        expose: [8081, "8082/udp"]
        links: [worlddb:db]
        depends_on:
          worlddb: {condition: service_healthy}
        restart: on-failure:3
        stop_grace_period: 1m
        deploy:
          replicas: 2
          placement:
            constraints: ["node.labels.zone != b"]
    volumes:
      worlddata: {}
    """
)


def parse(text: str, **kw):
    return parse_stack(textwrap.dedent(text), **kw)


def problems_of(text: str, **kw) -> dict[str, str]:
    with pytest.raises(ComposeInvalid) as info:
        parse(text, **kw)
    return {p.path(): p.msg for p in info.value.problems}


def test_world_stack_maps_every_key():
    stack = parse_stack(WORLD, env_files={"search.env": "# comment\nexport DB_HOST=worlddb\n"})
    assert stack.name == "world"
    db, api = stack.services["worlddb"], stack.services["searchapi"]
    assert db.environment == {"MARIADB_DATABASE": "world", "LOAD": "true"}
    assert db.volumes[0].volume == "worlddata" and db.volumes[0].target == "/var/lib/mysql"
    assert db.healthcheck is not None
    assert db.healthcheck.test == ("CMD", "/usr/local/bin/healthcheck")
    assert (db.healthcheck.interval_s, db.healthcheck.timeout_s) == (2.0, 90.0)
    assert db.healthcheck.start_period_s == 0.5 and db.healthcheck.retries == 60
    assert db.constraints == (Constraint(field="hostname", equal=True, value="h1"),)
    assert api.command == ("python3", "-m", "searchapi", "--port", "8080")
    assert api.environment == {"DB_HOST": "worlddb"}
    assert api.ports == (
        Port(target=8080, published=8080, host_ip="127.0.0.1"),
        Port(target=9000, published=9001, protocol="udp"),
    )
    assert api.expose == ("8081/tcp", "8082/udp")
    assert api.links[0].service == "worlddb" and api.links[0].alias == "db"
    assert api.depends_on == {"worlddb": Condition.HEALTHY}
    assert api.restart.name == "on-failure" and api.restart.maximum_retry_count == 3
    assert api.stop_timeout_s == 60 and api.replicas == 2
    assert api.constraints[0].matches("h2", {"zone": "a"})
    assert not api.constraints[0].matches("h2", {"zone": "b"})
    # No networks given: both join the stack's default network, as in Compose.
    assert set(stack.networks) == {"default"}
    assert api.networks[0].network == "default"
    assert waves(stack) == [["worlddb"], ["searchapi"]]


def test_json_form_and_name_override():
    stack = parse_stack({"services": {"web": {"image": "nginx"}}}, name="site")
    assert stack.name == "site" and stack.services["web"].image == "nginx"


def test_unsupported_keys_are_named_not_ignored():
    found = problems_of(
        """
        name: s
        services:
          web:
            image: nginx
            privileged: true
            cap_add: [NET_ADMIN]
            deploy: {resources: {limits: {cpus: "1"}}}
            healthcheck: {test: "true", start_interval: 1s}
            x-note: extensions are fine
        secrets:
          token: {file: ./token}
        """
    )
    assert set(found) == {
        "services.web.privileged",
        "services.web.cap_add",
        "services.web.deploy.resources",
        "services.web.healthcheck.start_interval",
        "secrets",
    }
    assert all("not supported by weft" in m for m in found.values())


def test_unknown_keys_fail_the_compose_schema_with_their_path():
    found = problems_of("name: s\nservices:\n  web:\n    image: nginx\n    imagee: typo\n")
    assert list(found) == ["services.web"]
    assert "imagee" in found["services.web"]


def test_depends_on_cycle_and_unknown_service():
    found = problems_of(
        """
        name: s
        services:
          a: {image: x, depends_on: [b]}
          b: {image: x, depends_on: {c: {condition: service_healthy}}}
          c: {image: x, depends_on: [a, ghost]}
        """
    )
    assert found["services.c.depends_on.ghost"] == "no service named 'ghost'"
    cycles = [m for m in found.values() if m.startswith("cycle:")]
    assert cycles == ["cycle: a → b → c → a"]


@pytest.mark.parametrize(
    ("port", "path", "fragment"),
    [
        ('"70000:80"', "services.web.ports[0]", "not a port number"),
        ('"8080:80/sctp"', "services.web.ports[0]", "tcp or udp"),
        ('"8000-8010:80"', "services.web.ports[0]", "ranges are not supported"),
        ('"nope:80:80"', "services.web.ports[0]", "not an IP address"),
        ("{published: 80}", "services.web.ports[0]", "needs a target"),
    ],
)
def test_bad_ports(port, path, fragment):
    found = problems_of(f"name: s\nservices:\n  web:\n    image: x\n    ports: [{port}]\n")
    assert fragment in found[path]


def test_host_paths_cannot_be_mounted():
    found = problems_of(
        """
        name: s
        services:
          web: {image: x, volumes: ["/:/host", "./data:/data", {type: bind, source: /, target: /h}]}
        """
    )
    assert set(found) == {f"services.web.volumes[{i}]" for i in range(3)}
    assert all("named volumes" in m for m in found.values())


def test_references_must_exist():
    found = problems_of(
        """
        name: s
        services:
          web:
            image: x
            networks: [front]
            links: [db]
            volumes: [data:/d]
            network_mode: service:gone
        """
    )
    assert found["services.web.networks.front"] == "not a network of the stack"
    assert found["services.web.links[0]"] == "no service named 'db'"
    assert found["services.web.volumes[0]"] == "no volume named 'data'"
    assert found["services.web.network_mode"] == "no service named 'gone'"


def test_interpolation_defaults_escapes_and_missing():
    stack = parse(
        """
        name: s
        services:
          web:
            image: "nginx:${TAG:-1.25}"
            environment: {PRICE: "$$5", HOST: "${HOST}"}
        """,
        variables={"HOST": "db"},
    )
    web = stack.services["web"]
    assert web.image == "nginx:1.25"
    assert web.environment == {"PRICE": "$5", "HOST": "db"}
    found = problems_of("name: s\nservices:\n  web:\n    image: nginx:$TAG\n")
    assert "TAG is not set" in found["services.web.image"]


def test_environment_without_value_and_missing_env_file_are_refused():
    found = problems_of(
        """
        name: s
        services:
          web: {image: x, environment: [DEBUG], env_file: prod.env}
        """
    )
    assert "DEBUG has no value" in found["services.web.environment[0]"]
    assert "prod.env" in found["services.web.env_file"]


def test_networks_overlay_encrypted_and_subnet():
    stack = parse(
        """
        name: s
        services:
          web: {image: x, networks: {back: {aliases: [www]}}}
        networks:
          back:
            driver: overlay
            driver_opts: {encrypted: "true"}
            ipam: {config: [{subnet: 10.40.0.0/24}]}
        """
    )
    back = stack.networks["back"]
    assert (back.driver, back.encrypted, back.subnet) == ("overlay", True, "10.40.0.0/24")
    assert stack.services["web"].networks[0].aliases == ("www",)
    found = problems_of(
        """
        name: s
        services: {web: {image: x}}
        networks:
          n: {driver: macvlan, ipam: {config: [{subnet: 10.40.0.1/24}]}}
        """
    )
    assert "bridge or overlay" in found["networks.n.driver"]
    assert "IPv4 subnet" in found["networks.n.ipam.config[0].subnet"]


def test_stack_name_and_services_are_required():
    found = problems_of("services: {}\n")
    assert "needs a name" in found["name"]
    assert "at least one service" in found["services"]
    assert "lowercase" in problems_of("name: Bad Name\nservices: {w: {image: x}}\n")["name"]


def test_not_a_mapping():
    found = problems_of("- just\n- a list\n")
    assert "mapping" in found["(document)"]
