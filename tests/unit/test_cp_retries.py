"""The per-resource retry bookkeeping: delays, jitter, the cap, resets, repeats told once."""

import random

from hypothesis import given
from hypothesis import strategies as st

from controlplane.server.reconcile.retries import Retries, same_failure

KEY = ("container", "web")


def _retries(seed: int = 0) -> Retries:
    return Retries(initial=0.5, cap=60.0, rng=random.Random(seed))


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_delays_double_with_jitter_up_to_about_a_minute(count: int, seed: int) -> None:
    base = min(60.0, 0.5 * 2 ** (count - 1))
    assert 0.8 * base <= _retries(seed).delay(count) <= 1.2 * base


def test_jitter_spreads_resources_that_failed_together() -> None:
    r = _retries()
    assert len({round(r.delay(5), 6) for _ in range(20)}) == 20


def test_a_failing_resource_is_held_until_its_delay_has_passed() -> None:
    r = _retries()
    entry, repeat = r.failed(KEY, 7, "image missing", now=100.0)
    assert not repeat and entry.count == 1 and 100.4 <= entry.due <= 100.6
    assert r.held(KEY, 7, now=100.1)
    assert not r.held(KEY, 7, now=entry.due)
    assert r.next_due() == entry.due


def test_an_identical_failure_repeats_the_recorded_event() -> None:
    r = _retries()
    entry, repeat = r.failed(KEY, 7, "image missing", now=0.0)
    assert not repeat  # no event recorded yet
    entry.event_id = 42
    for n in range(2, 6):
        entry, repeat = r.failed(KEY, 7, "image missing", now=float(n))
        assert repeat and entry.count == n and entry.event_id == 42
    entry, repeat = r.failed(KEY, 7, "port taken", now=10.0)
    assert not repeat and entry.event_id is None and entry.count == 6  # still failing


def test_reasons_that_differ_only_in_object_ids_are_the_same_failure() -> None:
    a = "driver failed programming external connectivity on endpoint x (cc6a53b8ec4be90c344e): busy"
    b = "driver failed programming external connectivity on endpoint x (12c92fe40eedaa01bc9f): busy"
    assert same_failure(a, b)
    assert not same_failure(a, a.replace("busy", "gone"))


def test_a_new_attempt_a_success_or_nothing_left_to_do_starts_afresh() -> None:
    r = _retries()
    for n in range(5):
        r.failed(KEY, 7, "x", now=float(n))
    assert r.held(KEY, 7, now=5.0)
    assert not r.held(KEY, 8, now=5.0)  # a write made generation 8: try at once
    entry, _ = r.failed(KEY, 8, "x", now=6.0)
    assert entry.count == 1
    r.succeeded(KEY)
    assert r.next_due() is None
    r.failed(KEY, 8, "x", now=7.0)
    r.keep_only({("network", "n")})
    assert not r.failing


def test_what_failed_while_a_slow_call_ran_is_retried_when_it_lands() -> None:
    r = _retries()
    r.failed(("container", "old"), 1, "x", now=1.0)
    r.failed(KEY, 1, "port taken", now=5.0)
    r.forget_since(4.0)  # a slow delete began at 4.0 and has finished
    assert set(r.failing) == {("container", "old")}
