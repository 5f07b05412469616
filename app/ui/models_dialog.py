"""Models: what the registry offers, what is installed, and getting or removing weights.

Every call into app.engine.models.registry that can touch the network or hash a file (status,
download, verify, import, delete) runs in a worker. A model with a non-commercial
licence says so before it is downloaded. A cancelled download keeps its partial file:
Download again resumes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.outputs import download_part
from app.engine.workers import CallWorker, DownloadWorker
from app.ui.tasks import Tasks

log = logging.getLogger(__name__)

COL_NAME, COL_FAMILY, COL_STATUS, COL_LICENCE, COL_SIZE = range(5)
translate = QCoreApplication.translate


def headers() -> tuple[str, ...]:
    return (
        translate("ModelsDialog", "Model"),
        translate("ModelsDialog", "Family"),
        translate("ModelsDialog", "Status"),
        translate("ModelsDialog", "Licence"),
        translate("ModelsDialog", "Size"),
    )


def status_label(status: str) -> str:
    return {
        "installed": translate("ModelsDialog", "installed"),
        "missing": translate("ModelsDialog", "not installed"),
        "corrupt": translate("ModelsDialog", "corrupt"),
    }.get(status, status)


def family_label(family: str) -> str:
    return {
        "builtin": translate("ModelsDialog", "built in"),
        "detector": translate("ModelsDialog", "face detector"),
        "wav2lip": "Wav2Lip",  # the papers' own names
        "edtalk": "EDTalk",
    }.get(family, family)


@dataclass(frozen=True)
class ModelRow:
    name: str
    family: str
    status: str  # installed | missing | corrupt
    licence: str
    licence_note: str
    non_commercial: bool
    size: int
    size_exact: bool
    downloadable: bool
    partial: bool  # a resumable .part is on disk
    builtin: bool = False  # the draft model: part of the app, nothing to get or remove


def list_models() -> list[ModelRow]:
    """The registry with each model's local status (may hash a file: run it in a worker)."""
    from app.engine.models import registry as models

    rows = [
        ModelRow(
            name="draft",
            family="builtin",
            status="installed",
            licence="MIT",
            licence_note="",
            non_commercial=False,
            size=0,
            size_exact=True,
            downloadable=False,
            partial=False,
            builtin=True,
        )
    ]
    for entry in models.load_registry():
        path = models.model_path(entry.name)
        rows.append(
            ModelRow(
                name=entry.name,
                family=entry.family,
                status=models.status(entry.name),
                licence=entry.licence,
                licence_note=entry.licence_note,
                non_commercial=entry.non_commercial,
                size=entry.size,
                size_exact=entry.size_exact,
                downloadable=bool(entry.urls) and not entry.custom,
                partial=download_part(path).exists(),
            )
        )
    return rows


def format_size(size: int, exact: bool = True) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return text if exact else f"~{text}"
        value /= 1024
    return str(size)  # pragma: no cover


class ModelsDialog(QDialog):
    models_changed = Signal()  # something was installed or removed

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Models"))
        self.resize(760, 380)
        self.tasks = tasks
        self.rows: list[ModelRow] = []
        self._download: DownloadWorker | None = None
        self._loaded = False
        self._want_selected: str | None = None

        self.table = QTableWidget(0, len(headers()))
        self.table.setHorizontalHeaderLabels(list(headers()))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_LICENCE, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.download_button = QPushButton(self.tr("Download"))
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.import_button = QPushButton(self.tr("Import file…"))
        self.verify_button = QPushButton(self.tr("Verify"))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.close_button = QPushButton(self.tr("Close"))
        self.download_button.clicked.connect(lambda: self.start_download(self.selected_name()))
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.import_file)
        self.verify_button.clicked.connect(self.verify_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.close_button.clicked.connect(self.close)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QHBoxLayout()
        for button in (
            self.download_button,
            self.cancel_button,
            self.import_button,
            self.verify_button,
            self.delete_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    # -- the list --------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded

    def refresh(self) -> None:
        self.tasks.start(
            CallWorker(list_models),
            on_finished=self._show_rows,
            on_errored=lambda exc: self._say(
                self.tr("Cannot read the models: {error}").format(error=exc)
            ),
        )

    def _show_rows(self, rows: list[ModelRow]) -> None:
        selected = self._want_selected or self.selected_name()
        self._want_selected = None
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            status = status_label(row.status)
            if row.status == "missing" and row.partial:
                status = self.tr("{status} (partial download)").format(status=status)
            licence = (
                "⚠ " + self.tr("non-commercial use only") if row.non_commercial else row.licence
            )
            cells = (
                row.name,
                family_label(row.family),
                status,
                licence,
                "" if row.builtin else format_size(row.size, row.size_exact),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == COL_LICENCE and row.licence_note:
                    item.setToolTip(row.licence_note)
                if c == COL_STATUS and row.status == "corrupt":
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(r, c, item)
            if row.name == selected:
                self.table.selectRow(r)
        self._loaded = True
        self._update_buttons()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()].name if rows and rows[0].row() < len(self.rows) else None

    def select(self, name: str) -> None:
        """Select model `name` (once the list is loaded, if it is not yet)."""
        self._want_selected = name
        for r, row in enumerate(self.rows):
            if row.name == name:
                self.table.selectRow(r)

    def row(self, name: str) -> ModelRow | None:
        return next((r for r in self.rows if r.name == name), None)

    def _update_buttons(self) -> None:
        name = self.selected_name()
        row = self.row(name) if name else None
        downloading = self._download is not None
        self.download_button.setEnabled(
            bool(row and row.downloadable and row.status != "installed") and not downloading
        )
        self.cancel_button.setEnabled(downloading)
        self.verify_button.setEnabled(bool(row and row.status != "missing" and not row.builtin))
        self.delete_button.setEnabled(
            bool(row and not row.builtin and (row.status != "missing" or row.partial))
            and not downloading
        )
        self.import_button.setEnabled(not downloading)

    def _say(self, text: str) -> None:
        self.message.setText(text)

    # -- download --------------------------------------------------------------------

    def start_download(self, name: str | None, confirm: bool = True) -> bool:
        """Download `name` (asking first about a non-commercial licence); False if not."""
        if not name or self._download is not None:
            return False
        row = self.row(name)
        if row is not None and row.non_commercial and confirm:
            answer = QMessageBox.question(
                self,
                self.tr("Non-commercial licence"),
                self.tr(
                    "{name} is licensed for non-commercial use only.\n\n{note}\n\n"
                    "Download it ({size})?"
                ).format(
                    name=name, note=row.licence_note, size=format_size(row.size, row.size_exact)
                ),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        worker = DownloadWorker(name)
        self._download = worker
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)  # busy until the size is known
        self._say(self.tr("Downloading {name}…").format(name=name))
        self.tasks.start(
            worker,
            on_progress=self._on_download_progress,
            on_finished=lambda path: self._download_ended(
                name, self.tr("{name} installed at {path}").format(name=name, path=path)
            ),
            on_errored=lambda exc: self._download_ended(
                name, self.tr("Download failed: {error}").format(error=exc)
            ),
            on_cancelled=lambda: self._download_ended(
                name,
                self.tr("Download of {name} cancelled; Download again resumes it.").format(
                    name=name
                ),
            ),
        )
        self._update_buttons()
        return True

    def cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()

    @property
    def downloading(self) -> bool:
        return self._download is not None

    def _on_download_progress(self, value: tuple[int, int | None]) -> None:
        done, total = value
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 / total))
            self.progress.setFormat(
                self.tr("{done} of {total}").format(
                    done=format_size(done), total=format_size(total)
                )
            )
        else:
            self.progress.setRange(0, 0)

    def _download_ended(self, name: str, text: str) -> None:
        self._download = None
        self.progress.setVisible(False)
        self._say(text)
        self.models_changed.emit()
        self.refresh()
        self._update_buttons()

    # -- import, verify, delete ------------------------------------------------------

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import a model file"),
            "",
            self.tr("ONNX models") + " (*.onnx);;" + self.tr("All files") + " (*)",
        )
        if path:
            self.import_path(Path(path), self.selected_name())

    def import_path(self, path: Path, as_name: str | None = None) -> None:
        from app.engine.models.importing import import_model

        row = self.row(as_name) if as_name else None
        if row is not None and row.status == "installed":
            as_name = None  # import by content: do not replace a good install by surprise
        self._say(self.tr("Importing {file}…").format(file=path.name))
        self.tasks.start(
            CallWorker(import_model, path, as_name),
            on_finished=lambda m: self._changed(
                self.tr("Imported {file} as {name}").format(file=path.name, name=m.name)
            ),
            on_errored=lambda exc: self._say(
                self.tr("Cannot import {file}: {error}").format(file=path.name, error=exc)
            ),
        )

    def verify_selected(self) -> None:
        from app.engine.models import registry as models

        name = self.selected_name()
        if not name:
            return
        self._say(self.tr("Verifying {name}…").format(name=name))
        self.tasks.start(
            CallWorker(models.verify, name),
            on_finished=lambda ok: self._changed(
                self.tr("{name}: the file matches its checksum").format(name=name)
                if ok
                else self.tr(
                    "{name}: the file is missing or damaged; download or import it again"
                ).format(name=name)
            ),
            on_errored=lambda exc: self._say(
                self.tr("Cannot verify {name}: {error}").format(name=name, error=exc)
            ),
        )

    def delete_selected(self) -> None:
        from app.engine.models import registry as models

        name = self.selected_name()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Delete model"),
            self.tr("Delete the files of {name}?").format(name=name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.tasks.start(
            CallWorker(models.delete, name),
            on_finished=lambda _: self._changed(self.tr("Deleted {name}").format(name=name)),
            on_errored=lambda exc: self._say(
                self.tr("Cannot delete {name}: {error}").format(name=name, error=exc)
            ),
        )

    def _changed(self, text: str) -> None:
        self._say(text)
        self.models_changed.emit()
        self.refresh()
