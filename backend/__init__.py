"""Composition root: settings, extensions, database pool, errors, observability, entry points."""
