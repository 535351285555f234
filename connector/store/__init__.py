"""The local store: one schema on SQLite (default) or PostgreSQL (shared store)."""

from connector.store.engine import Store, engine_for, open_store

__all__ = ["Store", "engine_for", "open_store"]
