"""The desktop app: PySide6 widgets only. It talks to the engine through
app.engine.workers (QRunnables and the scheduler's signal bridge)."""
