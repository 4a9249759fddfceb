"""The local control channel: CLI commands carried out by the backend that owns the data dir."""
