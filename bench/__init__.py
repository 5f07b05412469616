"""Reproducible benchmarks of the engine: `python -m bench [--quick] [--out DIR]`."""
