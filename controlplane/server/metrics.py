"""What an operator watches on the control plane: its /metrics, read at scrape time.

Request counts come from the middleware; the rest is read when Prometheus asks
(reconciler counters, subscribers, counts by status from the database), so no
code path has to remember to update a gauge.
"""

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.httpmetrics import RequestMetrics
from controlplane.server.eventlog import EventBus
from controlplane.server.models import Container, Event, Host, Network, Stack
from controlplane.server.reconcile.supervisor import Reconcilers

PREFIX = "weft_server"


class Counts:
    """Rows by status, and the newest event id, as last read from the database."""

    def __init__(self) -> None:
        self.hosts: dict[str, int] = {}
        self.resources: dict[tuple[str, str], int] = {}
        self.last_event_id = 0

    async def read(self, session: AsyncSession) -> None:
        """Count hosts, networks and containers by status; find the newest event id."""
        self.hosts = await _by_status(session, Host)
        nets = await _by_status(session, Network)
        ctrs = await _by_status(session, Container)
        stacks = await _by_status(session, Stack)
        self.resources = {("network", s): n for s, n in nets.items()}
        self.resources |= {("container", s): n for s, n in ctrs.items()}
        self.resources |= {("stack", s): n for s, n in stacks.items()}
        newest = (await session.exec(select(func.max(col(Event.id))))).one()
        self.last_event_id = int(newest or 0)


async def _by_status(
    session: AsyncSession, table: type[Host | Network | Container | Stack]
) -> dict[str, int]:
    status = col(table.status)
    rows = await session.exec(select(status, func.count()).group_by(status))
    return {str(s): int(n) for s, n in rows}


class ServerCollector(Collector):
    """Reconcilers, event subscribers and the counts, in Prometheus families."""

    def __init__(self, reconcilers: Reconcilers, bus: EventBus, counts: Counts) -> None:
        self.reconcilers = reconcilers
        self.bus = bus
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """The families, from the state at this moment."""
        passes = CounterMetricFamily(
            f"{PREFIX}_reconcile_passes", "Reconcile passes run, per host", labels=["host_id"]
        )
        failures = CounterMetricFamily(
            f"{PREFIX}_reconcile_failures",
            "Reconcile passes that failed (agent away or an error), per host",
            labels=["host_id"],
        )
        backoff = GaugeMetricFamily(
            f"{PREFIX}_reconcile_backoff_seconds",
            "Retry delay in force after failed passes (0: the last pass worked), per host",
            labels=["host_id"],
        )
        retrying = GaugeMetricFamily(
            f"{PREFIX}_reconcile_retrying",
            "Resources whose last action failed, waiting out their own backoff, per host",
            labels=["host_id"],
        )
        in_flight = GaugeMetricFamily(
            f"{PREFIX}_reconcile_in_flight",
            "Slow agent calls finishing in the background, per host",
            labels=["host_id"],
        )
        for host_id, runner in sorted(self.reconcilers.runners.items()):
            passes.add_metric([str(host_id)], runner.passes)
            failures.add_metric([str(host_id)], runner.failed_passes)
            backoff.add_metric([str(host_id)], runner.backoff)
            retrying.add_metric([str(host_id)], len(runner.retries.failing))
            in_flight.add_metric([str(host_id)], len(runner.flights))
        hosts = GaugeMetricFamily(f"{PREFIX}_hosts", "Hosts by status", labels=["status"])
        for status, n in sorted(self.counts.hosts.items()):
            hosts.add_metric([status], n)
        resources = GaugeMetricFamily(
            f"{PREFIX}_resources",
            "Networks, containers and stacks by status",
            labels=["kind", "status"],
        )
        for (kind, status), n in sorted(self.counts.resources.items()):
            resources.add_metric([kind, status], n)
        events = CounterMetricFamily(
            f"{PREFIX}_events_written",
            "Events written since the database was made (event ids are never reused)",
            value=self.counts.last_event_id,
        )
        subscribers = GaugeMetricFamily(
            f"{PREFIX}_event_stream_subscribers",
            "Clients following /events/stream now",
            value=len(self.bus.subscribers),
        )
        yield from (passes, failures, backoff, retrying, in_flight, hosts, resources)
        yield from (events, subscribers)


class ServerMetrics(RequestMetrics):
    """The control plane's registry: requests, plus the collector read at scrape time."""

    def __init__(self) -> None:
        super().__init__(PREFIX)
        self.counts = Counts()
        self._collector: ServerCollector | None = None

    def watch(self, reconcilers: Reconcilers, bus: EventBus) -> None:
        """Report these at every scrape (from lifespan; a second lifespan replaces them)."""
        if self._collector is not None:
            self.registry.unregister(self._collector)
        self._collector = ServerCollector(reconcilers, bus, self.counts)
        self.registry.register(self._collector)
