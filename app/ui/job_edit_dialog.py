"""Change a job's model and device before retrying it (a failure fixed from the GUI)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from app.engine.queue.jobstore import Job
from app.ui.settings_dialog import combo_box, device_choices, model_choices


class JobEditDialog(QDialog):
    def __init__(
        self,
        job: Job,
        parent: QWidget | None = None,
        devices: list[tuple[str, str]] | None = None,
        models: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Change job {id}").format(id=job.id))
        self.model = combo_box(models if models is not None else model_choices(), job.model)
        self.device = combo_box(devices if devices is not None else device_choices(), job.device)
        form = QFormLayout()
        form.addRow(self.tr("Model"), self.model)
        form.addRow(self.tr("Device"), self.device)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Save and retry"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def values(self) -> tuple[str, str]:
        return self.model.currentData(), self.device.currentData()
