"""Rendering one job: decode, audio features, face track, lip-sync, blend, encode."""
