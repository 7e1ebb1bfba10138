"""Verify: test connections through the Flow Service or directly against the database."""
