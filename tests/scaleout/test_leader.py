"""Leader election on the real MariaDB: one holder of the named lock, takeover when the leader stops,
crashes (its connection is killed) or stalls (the server ends its idle session), status for operators."""

from __future__ import annotations

import time

import pytest

from controller.sql import execute, fetch_value
from services.platform.leader import Leadership, lock_name
from tests.waiting import wait_for


class Roles:
    """Records the elected/deposed callbacks of one Leadership."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def elected(self) -> None:
        self.events.append("elected")

    def deposed(self) -> None:
        self.events.append("deposed")


@pytest.fixture
def make_leadership(app, db_config):
    """Factory of started Leadership objects on the session database (stopped after the test)."""
    started = []

    def make(name: str, interval_s: float = 3.0, on_elected=None) -> tuple[Leadership, Roles]:
        roles = Roles()
        leadership = Leadership(db_config, interval_s, on_elected or roles.elected, roles.deposed, identity=name)
        started.append(leadership)
        leadership.start()
        return leadership, roles

    yield make
    for leadership in started:
        leadership.stop()


def test_one_leader_and_followers_know_who_leads(make_leadership, db_config):
    a, a_roles = make_leadership("host-a:1")
    b, b_roles = make_leadership("host-b:2")
    assert (a.is_leader, b.is_leader) == (True, False)
    assert (a_roles.events, b_roles.events) == (["elected"], [])
    status = b.status()
    assert status["leader"] == "host-a:1" and status["is_leader"] is False and status["identity"] == "host-b:2"
    assert status["lock"] == lock_name(db_config.database) == f"leader:{db_config.database}"
    assert status["since"] == a.status()["since"] and status["since"].endswith("+05:30")
    assert b.readiness()["ok"] is True and a.status()["leader"] == "host-a:1"
    assert b.check() is False and a.check() is True  # rechecks change nothing


def test_stopping_the_leader_stops_its_work_then_frees_the_lock(make_leadership):
    a, a_roles = make_leadership("host-a:1")
    b, b_roles = make_leadership("host-b:2")
    a.stop()
    assert a_roles.events == ["elected", "deposed"] and a.readiness()["ok"] is False
    assert b.check() is True and b_roles.events == ["elected"]
    assert b.status()["leader"] == "host-b:2"


def test_follower_takes_over_by_itself_when_the_leader_stops(make_leadership):
    a, _ = make_leadership("host-a:1", interval_s=0.2)
    b, _ = make_leadership("host-b:2", interval_s=0.2)
    a.stop()
    assert wait_for(lambda: b.is_leader, timeout_s=2) < 1.0


def test_a_dead_leader_connection_frees_the_lock_and_the_old_leader_steps_down(make_leadership, db_conn):
    a, a_roles = make_leadership("host-a:1")
    b, _ = make_leadership("host-b:2")
    holder = fetch_value(db_conn, "SELECT IS_USED_LOCK(%s)", (a.lock_name,))
    execute(db_conn, f"KILL CONNECTION {int(holder)}")  # what the server does when the leader process dies
    wait_for(lambda: fetch_value(db_conn, "SELECT IS_USED_LOCK(%s)", (a.lock_name,)) is None)  # KILL is asynchronous
    assert b.check() is True
    assert a.check() is False and a_roles.events == ["elected", "deposed"]
    assert a.error is not None and a.status()["leader"] is None
    assert a.check() is False and a.error is None and a.status()["leader"] == "host-b:2"  # reconnected follower


def test_a_stalled_leader_loses_the_lock_when_the_server_ends_its_idle_session(make_leadership):
    a, _ = make_leadership("host-a:1", interval_s=0.2)
    a._running = False  # frozen: its loop stops pinging, its connection stays open and idle
    time.sleep(0.3)
    assert fetch_value(a._conn, "SELECT @@session.wait_timeout") == 3  # 2 x ceil(0.2) + 1
    b, _ = make_leadership("host-b:2", interval_s=0.2)
    assert not b.is_leader
    assert 2 < wait_for(lambda: b.is_leader, timeout_s=6) < 4


def test_writers_that_cannot_start_do_not_keep_the_lock(make_leadership):
    def broken():
        raise RuntimeError("cannot start")

    a, _ = make_leadership("host-a:1", on_elected=broken)
    assert a.is_leader is False
    b, _ = make_leadership("host-b:2")
    assert b.is_leader is True
