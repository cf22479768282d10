"""Private trading events go to the owner's room only, over a real Socket.IO server and clients."""

import contextlib

import socketio

from tests.waiting import wait_for

PRIVATE_EVENTS = {"order_update", "trade", "account_update"}


class Listener:
    """A Socket.IO client authenticated as its user (the connect handler joins user:<id>), recording the
    private events it receives."""

    def __init__(self, url: str, trader) -> None:
        self.events: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(url, auth={"token": trader.token}, wait_timeout=10)

    def _record(self, event: str, data: dict) -> None:
        if event in PRIVATE_EVENTS:
            self.events.append((event, data))

    def wait_for(self, count: int, timeout: float = 5) -> list[tuple[str, dict]]:
        """The events once `count` have arrived (or all that arrived within `timeout`, for the assertion)."""
        with contextlib.suppress(AssertionError):
            wait_for(lambda: len(self.events) >= count, timeout)
        return list(self.events)


def test_order_trade_and_account_events_reach_only_their_owner(live_server, market, make_trader):
    alice, bob = make_trader("alice"), make_trader("bob")
    alice_ears, bob_ears = Listener(live_server, alice), Listener(live_server, bob)
    try:
        market.publish("ZZTEST", "100")
        order = alice.order(expect=201, quantity=5)
        events = alice_ears.wait_for(3)
        assert [name for name, _ in events] == ["order_update", "trade", "account_update"]
        assert events[0][1]["order_id"] == order["order_id"] and events[0][1]["status"] == "COMPLETE"
        assert events[1][1]["quantity"] == 5 and events[1][1]["price"] == 100
        # the ids of rows inserted by deferred writes arrive with the COMMIT, before the pushes
        assert events[1][1]["trade_id"] == alice.get("/trades").get_json()["data"][0]["trade_id"]
        assert events[1][1]["order_id"] == order["order_id"]
        assert events[2][1]["cash"] == 99500
        resting = bob.order(expect=201, order_type="LIMIT", price=95)
        assert [name for name, _ in bob_ears.wait_for(2)] == ["order_update", "account_update"]
        market.tick("ZZTEST", "94.50")  # the matcher fills Bob's order: events from the tick path too
        bob_events = bob_ears.wait_for(5)
        assert [name for name, _ in bob_events[2:]] == ["order_update", "trade", "account_update"]
        assert bob_events[2][1]["order_id"] == resting["order_id"]
        assert bob_events[3][1]["trade_id"] == bob.get("/trades").get_json()["data"][0]["trade_id"]
        # a connection delivers in order: had any of Bob's events gone to Alice, it would come before her next ones
        alice.order(expect=201, quantity=1)
        assert [name for name, _ in alice_ears.wait_for(6)[3:]] == ["order_update", "trade", "account_update"]
        assert len(alice_ears.events) == 6  # nothing of Bob's reached Alice
        assert all(data.get("order_id") != order["order_id"] for _, data in bob_ears.events)
    finally:
        alice_ears.client.disconnect()
        bob_ears.client.disconnect()
