"""Every process's client subscriptions, shared through Redis, so the leader streams what any process's clients
watch: publish, union, withdraw, and a dead process's symbols expiring by themselves."""

from __future__ import annotations

import uuid

import pytest

from services.realtime.subscription_registry import SubscriptionRegistry
from tests.waiting import wait_for


@pytest.fixture
def registries(redis_url):
    """Factory of registries ("processes") sharing one key prefix of this test."""
    prefix = f"test:subscriptions:{uuid.uuid4().hex}:"
    made = []

    def make(interval_s: float = 2.0) -> SubscriptionRegistry:
        registry = SubscriptionRegistry(redis_url, interval_s, prefix=prefix)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.withdraw()
        registry.close()


def test_the_union_of_every_process_and_a_withdrawal(registries):
    a, b = registries(), registries()
    assert a.publish({"TCS", "RELIANCE"}) == 2 and b.publish({"INFY", "TCS"}) == 2
    assert a.all_symbols() == b.all_symbols() == {"TCS", "RELIANCE", "INFY"}
    a.publish(set())  # its clients left
    assert b.all_symbols() == {"INFY", "TCS"}
    b.withdraw()
    assert a.all_symbols() == set()


def test_a_dead_process_symbols_expire_after_three_intervals(registries):
    dead, alive = registries(interval_s=0.3), registries()
    dead.publish({"SBIN"})
    alive.publish({"ITC"})
    assert dead.ttl_s == 1 and alive.all_symbols() == {"SBIN", "ITC"}
    wait_for(lambda: alive.all_symbols() == {"ITC"}, timeout_s=5)  # nobody withdrew it: its key expired
