"""Helpers shared by the tests and the benchmarks (never shipped with the app)."""
