"""Socket.IO packet encoding tuned for a fan-out server: text only, payloads encoded once."""

from __future__ import annotations

import json

from socketio.packet import Packet


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
        return f"{self.packet_type}{namespace}{ack}[{json.dumps(data[0])},{data[1]}]"
