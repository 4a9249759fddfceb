"""Logging, request ids, health and readiness."""
