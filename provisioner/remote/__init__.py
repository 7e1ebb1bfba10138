"""Remote: the Flow Service client, IMS tokens, retries, pacing, orgs and routing."""
