"""Sync by export: keys, bundle files, change sets and merging (see docs/sync.md)."""
