"""Lipsync Studio: offline lip-sync video rendering."""

__version__ = "0.1.0"
