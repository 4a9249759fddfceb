"""The instance itself: what it is running, and the settings saved for it."""
