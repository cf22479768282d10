"""The shutdown sequence (services/runtime/shutdown.py): stages in order whatever the registration order, each
step once, a failing step does not stop the others, and new work is refused from the start."""

from __future__ import annotations

import pytest

from services.runtime.shutdown import INTAKE, RESOURCES, STREAMS, WORK, ShutdownSequence
from utils.errors import ShuttingDown


def _recording(sequence: ShutdownSequence, ran: list[str], *steps: tuple[str, str]) -> None:
    for name, stage in steps:
        sequence.register(name, stage, lambda name=name: ran.append(name))


def test_stages_run_in_order_and_resources_only_at_finish():
    sequence, ran = ShutdownSequence(), []
    _recording(sequence, ran, ("pool", RESOURCES), ("sockets", STREAMS), ("scans", WORK), ("listener", INTAKE))
    _recording(sequence, ran, ("feed", WORK))  # after "scans" within its stage
    sequence.begin()
    assert ran == ["listener", "scans", "feed", "sockets"]
    sequence.finish()
    assert ran == ["listener", "scans", "feed", "sockets", "pool"]


def test_each_step_runs_once_and_finish_alone_runs_everything():
    sequence, ran = ShutdownSequence(), []
    _recording(sequence, ran, ("work", WORK), ("pool", RESOURCES))
    sequence.finish()  # e.g. the worker exits without a SIGTERM (its master died)
    sequence.begin()
    sequence.finish()
    assert ran == ["work", "pool"]


def test_a_failing_step_is_logged_and_the_sequence_goes_on(caplog):
    sequence, ran = ShutdownSequence(), []
    sequence.register("broken", WORK, lambda: 1 / 0)
    _recording(sequence, ran, ("after", WORK), ("pool", RESOURCES))
    sequence.finish()
    assert ran == ["after", "pool"]
    assert "shutdown step 'broken' failed" in caplog.text


def test_registering_a_name_again_replaces_its_step_and_unregister_removes_it():
    sequence, ran = ShutdownSequence(), []
    sequence.register("services", WORK, lambda: ran.append("old"))
    sequence.register("services", WORK, lambda: ran.append("new"))
    sequence.register("gone", WORK, lambda: ran.append("gone"))
    sequence.unregister("gone")
    sequence.finish()
    assert ran == ["new"]
    with pytest.raises(ValueError, match="unknown shutdown stage"):
        sequence.register("x", "later", lambda: None)


def test_new_work_is_refused_once_the_shutdown_has_begun():
    sequence = ShutdownSequence()
    sequence.refuse_new_work()  # nothing happens while running
    assert not sequence.stopping()
    sequence.begin()
    assert sequence.stopping()
    with pytest.raises(ShuttingDown) as refused:
        sequence.refuse_new_work()
    error = refused.value
    assert (error.status, error.code, error.details) == (503, "SERVICE_UNAVAILABLE", {"reason": "shutting_down"})
    assert error.retry_after_s and error.retry_after_s > 0
