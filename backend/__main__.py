"""`python -m backend <command>`: serve, up, migrate, seed (see backend/cli.py)."""

import sys

if sys.argv[1:2] == ["serve"]:  # the eventlet dev server: patch before anything else is imported
    import eventlet

    eventlet.monkey_patch()

from backend.cli import main  # noqa: E402

sys.exit(main())
