"""A stand-in web process for tests: an app whose job runner (with a real scan process) claims scans until it is
killed. `python -m tests.scans.runner_process DATABASE_URL` prints its scan process's pid, then runs."""

from __future__ import annotations

import sys
import time

from backend.app import create_app
from backend.settings import DatabaseConfig
from services.jobs.runner import JobRunner
from services.scans.executor import ScanExecutor
from services.scans.views import KIND
from tests.conftest import make_settings
from tests.scans.conftest import HEARTBEAT_S


def main() -> None:
    app = create_app(
        make_settings(
            DatabaseConfig.from_url(sys.argv[1]), job_heartbeat_interval_s=HEARTBEAT_S, job_poll_interval_s=0.1
        )
    )
    executor = ScanExecutor(app)
    print(executor.ensure_started(), flush=True)
    JobRunner(app, {KIND: executor}).start()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
