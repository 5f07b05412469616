"""The link to a Ray cluster when Settings say "Render on: Ray cluster at ADDRESS".

Joining a cluster takes seconds (longer when it does not answer), so it happens on a
plain thread, never on the GUI thread; the result comes back as a queued signal. The
engine side is app/engine/farm/ (imported only here, and only when Ray is chosen).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QObject, Signal

translate = QCoreApplication.translate

LOCAL = "local"
RAY = "ray"
RENDER_TARGETS = (LOCAL, RAY)


class FarmLink(QObject):
    """Joins the cluster in the background: `ready(slots)` or `failed(message)`."""

    ready = Signal(object)  # dict[str, int]: the scheduler slots the cluster offers
    failed = Signal(str)

    def __init__(self, address: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.address = address
        self.slots: dict[str, int] | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def connecting(self) -> bool:
        return self._thread is not None and self.slots is None and self.error is None

    def connect_cluster(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._join, name="lipsync-farm-link", daemon=True)
        self._thread.start()

    def _join(self) -> None:
        try:
            from app.engine.farm import cluster
        except ImportError:
            self.error = translate(
                "FarmLink", "Ray is not installed: pip install 'lipsync-studio[farm]'"
            )
            self.failed.emit(self.error)
            return
        try:
            cluster.connect(self.address)
            self.slots = cluster.slots()
        except Exception as exc:  # noqa: BLE001 - any failure to join is shown, not raised
            self.error = str(exc) or type(exc).__name__
            self.failed.emit(self.error)
            return
        self.ready.emit(self.slots)

    def runner(self):  # noqa: ANN201 - RayRunner, typed in the engine
        from app.engine.farm.runner import RayRunner

        return RayRunner()

    @property
    def problem(self) -> str:
        """Why the cluster cannot be used, in full ("" while there is no problem)."""
        return self.error or ""

    def describe(self) -> str:
        """The status bar's words for where jobs render."""
        where = translate("FarmLink", "Ray cluster at {address}").format(address=self.address)
        if self.error is not None:  # the reason is long: it goes in the tooltip (`problem`)
            return translate("FarmLink", "Render on: {where} (not reachable)").format(where=where)
        if self.slots is None:
            return translate("FarmLink", "Render on: {where} (connecting…)").format(where=where)
        jobs = sum(self.slots.values())
        return translate("FarmLink", "Render on: {where} (jobs at once: {n})").format(
            where=where, n=jobs
        )


def describe_local() -> str:
    return translate("FarmLink", "Render on: this computer")
