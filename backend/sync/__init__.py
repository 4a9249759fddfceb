"""Sync: the hybrid logical clock and the node change log (outbox)."""
