"""Reporters: the plan for people (text), for machines (json) and for pull requests (markdown)."""
