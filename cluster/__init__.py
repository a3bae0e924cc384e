"""Cluster plumbing: settings, Redis and PostgreSQL access, metrics, health, the `tutor` CLI."""
