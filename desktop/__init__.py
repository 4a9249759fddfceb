"""The Outpost desktop console; it talks to the backend only over HTTP."""
