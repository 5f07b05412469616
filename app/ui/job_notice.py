"""Under the preview: why the shown job failed or needs a look, and the fixes in place
(open the model manager, change the job's model or device, retry)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.engine.queue.jobstore import Job

STYLES = {
    "failed": "#job_notice { background: #fdecea; border: 1px solid #e57373; }"
    " QLabel { color: #7f1d1d; }",
    "warning": "#job_notice { background: #fff4d6; border: 1px solid #e0b84a; }"
    " QLabel { color: #5a4300; }",
}


class JobNotice(QFrame):
    open_models = Signal(str)  # the model to select
    change_job = Signal(int)
    retry_job = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("job_notice")
        self._job: Job | None = None
        self._model = ""
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.models_button = QPushButton(self.tr("Open Models…"))
        self.change_button = QPushButton(self.tr("Change model or device…"))
        self.retry_button = QPushButton(self.tr("Retry"))
        self.models_button.clicked.connect(lambda: self.open_models.emit(self._model))
        self.change_button.clicked.connect(lambda: self._job and self.change_job.emit(self._job.id))
        self.retry_button.clicked.connect(lambda: self._job and self.retry_job.emit(self._job.id))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.models_button)
        buttons.addWidget(self.change_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.hide()

    @property
    def job_id(self) -> int | None:
        return self._job.id if self._job is not None else None

    def show_failure(self, job: Job, model_missing: str | None) -> None:
        """A failed job: its reason; Open Models when its model is not installed."""
        self._job, self._model = job, model_missing or ""
        reason = (job.error or self.tr("no reason was recorded")).strip()
        if model_missing:
            reason = self.tr(
                "The model {model} is not installed. Download or import it in Models, or "
                "render this job with another model."
            ).format(model=model_missing)
        self.text.setText(self.tr("Failed: {reason}").format(reason=reason))
        self.setStyleSheet(STYLES["failed"])
        self.models_button.setVisible(bool(model_missing))
        self.change_button.show()
        self.retry_button.show()
        self.show()

    def show_warning(self, job: Job, text: str) -> None:
        """A done job that needs a look (no face in some frames)."""
        self._job, self._model = job, ""
        self.text.setText(text)
        self.setStyleSheet(STYLES["warning"])
        self.models_button.hide()
        self.change_button.hide()
        self.retry_button.hide()
        self.show()

    def clear(self) -> None:
        self._job = None
        self.hide()
