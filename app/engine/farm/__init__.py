"""Rendering the batch queue on a Ray cluster (`batch --engine ray`, the `farm` extra).

The local SQLite queue stays the source of truth: the driver's Scheduler claims jobs as it
always does, and its runner (`runner.RayRunner`) renders each one as a Ray task instead of
in-process. Ray is imported only by this package, and this package only when asked for.
"""
