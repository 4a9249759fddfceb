"""The HTTP face of identity and access."""
