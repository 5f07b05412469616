"""Reproducible benchmarks of the engine: `python -m bench [--quick] [--only S] [--out DIR]`."""
