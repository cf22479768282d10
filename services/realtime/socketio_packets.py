"""Socket.IO packet encoding tuned for a fan-out server: text only, payloads encoded once; and the JSON module
Socket.IO and Engine.IO decode clients' packets with (nesting limited like HTTP bodies)."""

from __future__ import annotations

import json
from functools import lru_cache

from socketio.packet import EVENT, Packet

from utils import json_depth

# A packet's JSON is the array [event, payload...]: one level of framing around each payload.
PACKET_MAX_DEPTH = json_depth.MAX_DEPTH + 1


class PacketJson:
    """The `json` module of the Socket.IO server: the standard one, but event payloads nested deeper than
    json_depth.MAX_DEPTH fail to decode (JsonTooDeep, a ValueError) instead of exhausting the stack."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: object) -> object:
        """Decode a packet's JSON; JsonTooDeep when a payload nests deeper than json_depth.MAX_DEPTH (and, as
        Engine.IO's own json module does, a ValueError for integers of more than 100 digits)."""
        kwargs.setdefault("parse_int", _bounded_int)
        return json_depth.loads(text, PACKET_MAX_DEPTH, **kwargs)


def _bounded_int(digits: str) -> int:
    if len(digits) > 100:
        raise ValueError("integer too large")
    return int(digits)


class RawJson(str):
    """JSON text spliced into a packet as is: a payload encoded once and sent in many packets."""


class TextPacket(Packet):
    """Socket.IO packets without binary attachments, and with pre-encoded (RawJson) payloads.

    Every event this server sends is JSON text; the recursive binary scan of each payload cost about
    as much as encoding it, and a RawJson payload is not encoded again.
    """

    uses_binary_events = False

    def encode(self) -> str | list:
        """The packet's wire text; `[event, RawJson]` is assembled without re-encoding the payload."""
        data = self.data
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], RawJson)):
            return super().encode()
        namespace = f"{self.namespace}," if self.namespace not in (None, "/") else ""
        ack = "" if self.id is None else str(self.id)
        return f"{self.packet_type}{namespace}{ack}[{_event_name(data[0])},{data[1]}]"


def event_text(event: str, payload: str) -> str:
    """The wire text of an EVENT packet on the default namespace whose payload is JSON text: what TextPacket encodes
    for `[event, RawJson(payload)]`, without building the packet (the fan-out prepares one per changed symbol)."""
    return f"{EVENT}[{_event_name(event)},{payload}]"


@lru_cache(maxsize=256)
def _event_name(event: str) -> str:
    return json.dumps(event)  # a server's event names are few
