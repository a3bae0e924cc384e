"""Releases: what was deployed (config as applied, code, models, indexes, migration level), kept
in a history, verified after each deploy, and rolled back to by id."""
