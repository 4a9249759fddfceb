"""Benchmarks run by hand (`python -m tests.bench`), never collected by pytest."""
