"""Issue 6: PostgreSQL as a first-class store, and promosync under load, faults, hostile input."""
