"""Background jobs: the one Huey instance, its tasks and the in-process consumer."""
