"""A job's files on the desktop: open, reveal in the file manager, copy the path.

The system opener (QDesktopServices) may be missing (a bare Linux without xdg-open, a
sandbox): then the user is told so and gets the path to copy, never silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

Opener = Callable[[QUrl], bool]


def copy_path(path: Path) -> None:
    QGuiApplication.clipboard().setText(str(path))


def _system_opener(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


def open_path(parent: QWidget, path: Path, opener: Opener | None = None) -> bool:
    """Open a file or folder with the system's application; say so when that fails."""
    if not path.exists():
        QMessageBox.warning(
            parent,
            translate("JobFiles", "Not found"),
            translate("JobFiles", "{path} does not exist (yet).").format(path=path),
        )
        return False
    if (opener or _system_opener)(QUrl.fromLocalFile(str(path))):
        return True
    log.warning("no application opened %s", path)
    copy_path(path)
    QMessageBox.information(
        parent,
        translate("JobFiles", "Cannot open"),
        translate(
            "JobFiles",
            "This system has no application set to open it. The path was copied to the "
            "clipboard:\n\n{path}",
        ).format(path=path),
    )
    return False


def reveal(parent: QWidget, path: Path, opener: Opener | None = None) -> bool:
    """Show the folder that holds `path` (created if missing, for an output folder)."""
    folder = path if path.is_dir() else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        QMessageBox.warning(parent, translate("JobFiles", "Cannot open"), f"{folder}: {exc}")
        return False
    return open_path(parent, folder, opener)
