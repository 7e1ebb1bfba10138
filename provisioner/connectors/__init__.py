"""Connectors: each source's facts (spec, payload, adoption, direct probe) behind one Protocol."""
