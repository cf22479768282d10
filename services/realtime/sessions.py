"""Signed-in Socket.IO connections end with their authorisation.

A socket is authorised once, at connect, by its access token; each process remembers which user and which
token id (`jti`) each of its signed-in sockets came with. A logout ends the sockets of the token it revokes, an
admin's block or deletion ends all the user's sockets: the process that does it at once, every other process
at its next check (`check_sessions`, every SESSION_CHECK_INTERVAL_S, straight from the database, so also
with several processes and whichever process made the change). An ended socket is told why
(`session_revoked {reason, message}`), then disconnected, which takes it out of its private room.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from backend import db
from backend.extensions import app_extensions, socketio
from controller.accounts import tokens
from services.realtime.fanout import emit
from utils import metrics
from utils.errors import ServiceUnavailable

log = logging.getLogger(__name__)
SESSION_CHECK_INTERVAL_S = 2.0
TOKEN_REVOKED, ACCOUNT_BLOCKED, USER_DELETED = "token_revoked", "account_blocked", "user_deleted"
MESSAGES = {
    TOKEN_REVOKED: "You were signed out: this session's token was revoked.",
    ACCOUNT_BLOCKED: "This account has been blocked by an administrator.",
    USER_DELETED: "This account has been deleted.",
}


@dataclass(frozen=True, slots=True)
class SocketSession:
    """The user and token id a socket was signed in with."""

    user_id: int
    jti: str


class SocketSessions:
    """This process's signed-in sockets: sid -> SocketSession, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_sid: dict[str, SocketSession] = {}

    def add(self, sid: str, session: SocketSession) -> None:
        """Remember a socket signed in with `session`."""
        with self._lock:
            self._by_sid[sid] = session

    def discard(self, sid: str) -> None:
        """Forget a disconnected socket."""
        with self._lock:
            self._by_sid.pop(sid, None)

    def all(self) -> dict[str, SocketSession]:
        """A copy of every signed-in socket of this process."""
        with self._lock:
            return dict(self._by_sid)


def socket_sessions() -> SocketSessions:
    """The current app's registry (created on first use)."""
    return app_extensions().setdefault("socket_sessions", SocketSessions())


def _end(sids: list[str], reason: str) -> int:
    registry = socket_sessions()
    for sid in sids:
        emit("session_revoked", {"reason": reason, "message": MESSAGES[reason]}, to=sid)
        socketio.server.disconnect(sid, namespace="/")
        registry.discard(sid)
    if sids:
        metrics.SOCKETIO_SESSIONS_ENDED.labels(reason).inc(len(sids))
        log.info("ended %d Socket.IO session(s): %s", len(sids), reason)
    return len(sids)


def end_user_sessions(user_id: int, reason: str) -> int:
    """End this process's sockets of `user_id` (blocked or deleted); return how many."""
    return _end([sid for sid, s in socket_sessions().all().items() if s.user_id == user_id], reason)


def end_token_sessions(jtis: set[str]) -> int:
    """End this process's sockets signed in with one of these (revoked) token ids; return how many."""
    return _end([sid for sid, s in socket_sessions().all().items() if s.jti in jtis], TOKEN_REVOKED)


def check_sessions() -> int:
    """End the sockets whose user was deleted or blocked, or whose token was revoked (one query); return how many."""
    signed_in = socket_sessions().all()
    if not signed_in:
        return 0
    try:
        with db.connection() as conn:
            statuses, revoked = tokens.session_states(
                conn, {s.user_id for s in signed_in.values()}, {s.jti for s in signed_in.values()}
            )
    except ServiceUnavailable:  # the pool has said so; the sockets are checked again once the database answers
        return 0
    ended: dict[str, list[str]] = {USER_DELETED: [], ACCOUNT_BLOCKED: [], TOKEN_REVOKED: []}
    for sid, session in signed_in.items():
        status = statuses.get(session.user_id)
        if status is None:
            ended[USER_DELETED].append(sid)
        elif status != "active":
            ended[ACCOUNT_BLOCKED].append(sid)
        elif session.jti in revoked:
            ended[TOKEN_REVOKED].append(sid)
    return sum(_end(sids, reason) for reason, sids in ended.items())
