"""Settings: device, default model, output folder and name, encoding, queue behaviour.

Reads and writes `AppSettings` (QSettings, see app_settings.py); the window applies them
to new jobs at once and to the scheduler when it is idle.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.engine.errors import InputError
from app.engine.settings import LOOP_MODES, MASK_PRESETS, PRESETS
from app.ui.app_settings import DETECTORS, AppSettings, default_output_dir

LOOP_LABELS = {"pingpong": "Ping-pong (forward, backward …)", "repeat": "Repeat from the start"}
DETECTOR_LABELS = {
    "auto": "Automatic (YuNet if installed, else Haar)",
    "yunet": "YuNet",
    "haar": "OpenCV Haar (offline fallback)",
}
MASK_LABELS = {"mouth": "Mouth only", "lower-face": "Mouth, chin and jaw"}


def check_name_pattern(pattern: str) -> str | None:
    """None if the pattern makes valid .mp4 names, else why not."""
    from app.cli.batch_cmd import check_name_template

    try:
        check_name_template(pattern)
    except InputError as exc:
        return str(exc).replace("--name ", "", 1)
    return None


def device_choices() -> list[tuple[str, str]]:
    """(value, label): automatic first, then what ONNX Runtime offers here."""
    from app.engine.models.providers import list_devices

    return [("auto", "Automatic (best GPU, else CPU)")] + [
        (d.device, f"{d.label} — {d.provider}") for d in list_devices()
    ]


def model_choices() -> list[tuple[str, str]]:
    from app.engine.models import registry as models

    out = [
        ("auto", "Automatic (best installed, else draft)"),
        ("draft", "draft — built in, no download"),
    ]
    for entry in models.load_registry():
        if entry.family in models.LIPSYNC_FAMILIES:
            note = " — non-commercial licence" if entry.non_commercial else ""
            out.append((entry.name, f"{entry.name}{note}"))
    return out


def enhancer_choices() -> list[tuple[str, str]]:
    from app.engine.models import registry as models
    from app.engine.models.enhance.runner import FAMILY

    out = [("none", "None")]
    for entry in models.load_registry():
        if entry.family == FAMILY:
            note = " — non-commercial licence" if entry.non_commercial else ""
            out.append((entry.name, f"{entry.name}{note}"))
    return out


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        devices: list[tuple[str, str]] | None = None,
        models: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._settings = settings

        self.device = _combo(devices if devices is not None else device_choices(), settings.device)
        self.model = _combo(models if models is not None else model_choices(), settings.model)
        self.detector = _combo([(d, DETECTOR_LABELS[d]) for d in DETECTORS], settings.detector)
        self.output_dir = QLineEdit(settings.output_dir)
        self.output_dir.setPlaceholderText(default_output_dir())
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_dir, 1)
        out_row.addWidget(browse)
        self.name_pattern = QLineEdit(settings.name_pattern)
        self.name_pattern.setToolTip(
            "Fields: {video} {audio} (file names without extension), "
            "{index}. An existing name gets _2, _3 …"
        )
        self.name_pattern.textChanged.connect(self._validate)
        self.crf = QSpinBox()
        self.crf.setRange(0, 51)
        self.crf.setValue(settings.crf)
        self.crf.setToolTip("H.264 quality: lower is better and bigger; 18 looks lossless")
        self.preset = _combo([(p, p) for p in PRESETS], settings.preset)
        self.loop = _combo([(m, LOOP_LABELS.get(m, m)) for m in LOOP_MODES], settings.loop)
        self.stall_timeout = QDoubleSpinBox()
        self.stall_timeout.setRange(5, 24 * 3600)
        self.stall_timeout.setDecimals(0)
        self.stall_timeout.setSuffix(" s")
        self.stall_timeout.setValue(settings.stall_timeout_s)
        self.stall_timeout.setToolTip(
            "A job with no new frame for this long is stopped and "
            "retried; loading a model on a cold GPU can take minutes"
        )
        self.max_parallel = QSpinBox()
        self.max_parallel.setRange(1, 8)
        self.max_parallel.setValue(settings.max_parallel)
        self.max_parallel.setToolTip("Jobs rendering at once on each device (1 is best for a GPU)")
        self.mask = _combo([(m, MASK_LABELS.get(m, m)) for m in MASK_PRESETS], settings.mask)
        self.mask.setToolTip("Where the lip-sync result may change the face")
        self.feather = QDoubleSpinBox()
        self.feather.setRange(0.0, 1.0)
        self.feather.setSingleStep(0.05)
        self.feather.setValue(settings.feather)
        self.feather.setToolTip("How much of the mask fades out at its edge")
        self.enhancer = _combo(enhancer_choices(), settings.enhancer)
        self.enhancer.setToolTip(
            "Restore the face after lip sync (inside the lip-sync area); "
            "download it in Tools → Models"
        )
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #c62828;")

        form = QFormLayout()
        form.addRow("Device", self.device)
        form.addRow("Default model", self.model)
        form.addRow("Face detector", self.detector)
        form.addRow("Output folder", out_row)
        form.addRow("File name", self.name_pattern)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Encoder preset", self.preset)
        form.addRow("Short video", self.loop)
        form.addRow("Lip-sync area", self.mask)
        form.addRow("Soft edge", self.feather)
        form.addRow("Face enhancer", self.enhancer)
        form.addRow("Stall timeout", self.stall_timeout)
        form.addRow("Jobs per device", self.max_parallel)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._validate()

    def values(self) -> AppSettings:
        return AppSettings(
            device=self.device.currentData(),
            model=self.model.currentData(),
            detector=self.detector.currentData(),
            output_dir=self.output_dir.text().strip(),
            name_pattern=self.name_pattern.text().strip(),
            crf=self.crf.value(),
            preset=self.preset.currentData(),
            loop=self.loop.currentData(),
            stall_timeout_s=float(self.stall_timeout.value()),
            max_parallel=self.max_parallel.value(),
            mask=self.mask.currentData(),
            feather=round(self.feather.value(), 2),
            enhancer=self.enhancer.currentData(),
        )

    def _validate(self) -> None:
        problem = check_name_pattern(self.name_pattern.text().strip())
        self.problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Output folder", self.output_dir.text() or default_output_dir()
        )
        if folder:
            self.output_dir.setText(folder)


def _combo(items: list[tuple[str, str]], current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in items:
        combo.addItem(label, value)
    index = combo.findData(current)
    if index < 0:  # a value this machine does not offer (cuda:1 typed elsewhere): keep it
        combo.addItem(current, current)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
    return combo
