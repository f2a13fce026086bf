"""Prometheus metrics of one app instance (its own registry, so tests can make many apps)."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request counts and latency per route, and the pool's use."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "searchapi_requests",
            "HTTP requests served (status 499: client went away first)",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "searchapi_request_duration_seconds",
            "Time to serve a request",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "searchapi_db_pool_in_use", "Database connections in use", registry=self.registry
        )
        self.pool_open = Gauge(
            "searchapi_db_pool_open", "Database connections open", registry=self.registry
        )
        self.index_cities = Gauge(
            "searchapi_index_cities",
            "Cities in the in-process index (0: answering from MariaDB)",
            registry=self.registry,
        )
        self.pool_size = Gauge(
            "searchapi_db_pool_size", "Most database connections", registry=self.registry
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def watch_pool(
        self, in_use: Callable[[], float], open_: Callable[[], float], size: float
    ) -> None:
        """Report the pool's state at every scrape."""
        self.pool_in_use.set_function(in_use)
        self.pool_open.set_function(open_)
        self.pool_size.set(size)

    def watch_index(self, cities: Callable[[], float]) -> None:
        """Report the in-process index's size (0 until it is loaded) at every scrape."""
        self.index_cities.set_function(cities)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
