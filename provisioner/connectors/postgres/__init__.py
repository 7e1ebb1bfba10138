"""PostgreSQL: the Flow Service connection spec, its payloads, and the direct probe."""
