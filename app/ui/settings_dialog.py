"""Settings: device, default model, output folder and name, encoding, queue behaviour.

Reads and writes `AppSettings` (QSettings, see app_settings.py); the window applies them
to new jobs at once and to the scheduler when it is idle.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
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
from app.engine.settings import (
    DETECTORS,
    ENCODERS,
    HW_DECODERS,
    LOOP_MODES,
    MASK_PRESETS,
    PRESETS,
)
from app.ui.app_settings import AppSettings, default_output_dir
from app.ui.farm_link import LOCAL, RAY
from app.ui.i18n import LANGUAGES, language_label

translate = QCoreApplication.translate


def loop_labels() -> dict[str, str]:
    return {
        "pingpong": translate("SettingsDialog", "Ping-pong (forward, backward …)"),
        "repeat": translate("SettingsDialog", "Repeat from the start"),
    }


def encoder_labels() -> dict[str, str]:
    return {
        "auto": translate("SettingsDialog", "Automatic (hardware if it opens, else libx264)"),
        "libx264": translate("SettingsDialog", "libx264 (CPU)"),
        "h264_nvenc": "NVIDIA NVENC H.264",
        "hevc_nvenc": "NVIDIA NVENC HEVC",
        "h264_qsv": "Intel Quick Sync H.264",
        "h264_amf": "AMD AMF H.264",
        "h264_mf": "Windows Media Foundation H.264",
        "h264_videotoolbox": "Apple VideoToolbox H.264",
    }


def hw_decode_labels() -> dict[str, str]:
    return {
        "none": translate("SettingsDialog", "Off (CPU)"),
        "auto": translate("SettingsDialog", "Automatic (GPU if it works)"),
        "cuda": "NVIDIA CUDA",
        "vaapi": "VA-API",
        "qsv": "Intel Quick Sync",
        "d3d11va": "Direct3D 11 (D3D11VA)",
        "videotoolbox": "Apple VideoToolbox",
    }


def detector_labels() -> dict[str, str]:
    return {
        "auto": translate("SettingsDialog", "Automatic (YuNet, built in)"),
        "yunet": "YuNet",
        "haar": translate("SettingsDialog", "OpenCV Haar (offline fallback)"),
    }


def mask_labels() -> dict[str, str]:
    return {
        "mouth": translate("SettingsDialog", "Mouth only"),
        "lower-face": translate("SettingsDialog", "Mouth, chin and jaw"),
    }


def check_name_pattern(pattern: str) -> str | None:
    """None if the pattern makes valid .mp4 names, else why not."""
    from app.engine.queue.batch_plan import check_name_template

    try:
        check_name_template(pattern)
    except InputError as exc:
        return str(exc)
    return None


def device_choices() -> list[tuple[str, str]]:
    """(value, label): automatic first, then what ONNX Runtime offers here."""
    from app.engine.models.providers import list_devices

    return [("auto", translate("SettingsDialog", "Automatic (best GPU, else CPU)"))] + [
        (d.device, f"{d.label} — {d.provider}") for d in list_devices()
    ]


def model_choices() -> list[tuple[str, str]]:
    """(value, label) of the lip-sync models; one not installed says so in its label."""
    from app.engine.models import registry as models

    out = [
        ("auto", translate("SettingsDialog", "Automatic (best installed, else draft)")),
        ("draft", translate("SettingsDialog", "draft — built in, no download")),
    ]
    for entry in models.load_registry():
        if entry.family in models.LIPSYNC_FAMILIES:
            notes = []
            if missing_models([entry.name]):
                notes.append(translate("SettingsDialog", "not installed"))
            if entry.non_commercial:
                notes.append(translate("SettingsDialog", "non-commercial licence"))
            out.append((entry.name, " — ".join([entry.name, *notes])))
    return out


def missing_models(names: list[str]) -> list[str]:
    """The registry models among `names` whose file is not there (a cheap check)."""
    from app.engine.models import registry as models

    return [
        name
        for name in names
        if name not in models.RESERVED_NAMES and models.status(name) != "installed"
    ]


def enhancer_choices() -> list[tuple[str, str]]:
    from app.engine.models import registry as models
    from app.engine.models.enhance.runner import FAMILY

    out = [("none", translate("SettingsDialog", "None"))]
    note = translate("SettingsDialog", " — non-commercial licence")
    for entry in models.load_registry():
        if entry.family == FAMILY:
            out.append((entry.name, entry.name + (note if entry.non_commercial else "")))
    return out


class SettingsDialog(QDialog):
    open_models = Signal(str)  # "Open Models" next to a model that is not installed

    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        devices: list[tuple[str, str]] | None = None,
        models: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(520)
        self._settings = settings

        self.device = combo_box(
            devices if devices is not None else device_choices(), settings.device
        )
        self.model = combo_box(models if models is not None else model_choices(), settings.model)
        self.model.currentIndexChanged.connect(lambda _: self._check_model())
        self.model_warning = QLabel("")
        self.model_warning.setStyleSheet("color: #a15c00;")
        self.model_warning.setWordWrap(True)
        self.model_models = QPushButton(self.tr("Open Models…"))
        self.model_models.clicked.connect(lambda: self.open_models.emit(self.model.currentData()))
        labels = detector_labels()
        self.detector = combo_box([(d, labels[d]) for d in DETECTORS], settings.detector)
        self.language = combo_box(
            [(code, language_label(code)) for code in LANGUAGES], settings.language
        )
        self.language.setToolTip(self.tr("Applied the next time Lipsync Studio starts"))
        self.output_dir = QLineEdit(settings.output_dir)
        self.output_dir.setPlaceholderText(default_output_dir())
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_dir, 1)
        out_row.addWidget(browse)
        self.name_pattern = QLineEdit(settings.name_pattern)
        self.name_pattern.setToolTip(
            self.tr(
                "Fields: {video} {audio} (file names without extension), "
                "{index}. An existing name gets _2, _3 …"
            )
        )
        self.name_pattern.textChanged.connect(self._validate)
        self.crf = QSpinBox()
        self.crf.setRange(0, 51)
        self.crf.setValue(settings.crf)
        self.crf.setToolTip(self.tr("H.264 quality: lower is better and bigger; 18 looks lossless"))
        self.preset = combo_box([(p, p) for p in PRESETS], settings.preset)
        encoders = encoder_labels()
        self.encoder = combo_box([(e, encoders.get(e, e)) for e in ENCODERS], settings.encoder)
        self.encoder.setToolTip(
            self.tr("A hardware encoder that cannot open on this machine falls back to libx264")
        )
        decoders = hw_decode_labels()
        self.hw_decode = combo_box(
            [(d, decoders.get(d, d)) for d in HW_DECODERS], settings.hw_decode
        )
        self.hw_decode.setToolTip(
            self.tr("Decode presenter videos on the GPU; falls back to the CPU")
        )
        loops = loop_labels()
        self.loop = combo_box([(m, loops.get(m, m)) for m in LOOP_MODES], settings.loop)
        self.stall_timeout = QDoubleSpinBox()
        self.stall_timeout.setRange(5, 24 * 3600)
        self.stall_timeout.setDecimals(0)
        self.stall_timeout.setSuffix(self.tr(" s"))
        self.stall_timeout.setValue(settings.stall_timeout_s)
        self.stall_timeout.setToolTip(
            self.tr(
                "A job with no new frame for this long is stopped and "
                "retried; loading a model on a cold GPU can take minutes"
            )
        )
        self.max_parallel = QSpinBox()
        self.max_parallel.setRange(1, 8)
        self.max_parallel.setValue(settings.max_parallel)
        self.max_parallel.setToolTip(
            self.tr("Jobs rendering at once on each device (1 is best for a GPU)")
        )
        self.mask = combo_box([(m, mask_labels().get(m, m)) for m in MASK_PRESETS], settings.mask)
        self.mask.setToolTip(self.tr("Where the lip-sync result may change the face"))
        self.feather = QDoubleSpinBox()
        self.feather.setRange(0.0, 1.0)
        self.feather.setSingleStep(0.05)
        self.feather.setValue(settings.feather)
        self.feather.setToolTip(self.tr("How much of the mask fades out at its edge"))
        self.enhancer = combo_box(enhancer_choices(), settings.enhancer)
        self.enhancer.setToolTip(
            self.tr(
                "Restore the face after lip sync (inside the lip-sync area); download it in Models"
            )
        )
        self.render_on = combo_box(
            [
                (LOCAL, self.tr("This computer")),
                (RAY, self.tr("Ray cluster (render farm)")),
            ],
            settings.render_on,
        )
        self.ray_address = QLineEdit(settings.ray_address)
        self.ray_address.setPlaceholderText(self.tr("auto, or HOST:PORT"))
        self.ray_address.setToolTip(
            self.tr(
                "auto: the cluster `ray start` made on this computer. Inputs and outputs "
                "must be on storage every node sees, at the same path"
            )
        )
        self.render_on.currentIndexChanged.connect(lambda _: self._render_on_changed())
        self._render_on_changed()
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #c62828;")

        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.model_models)
        form = QFormLayout()
        form.addRow(self.tr("Device"), self.device)
        form.addRow(self.tr("Default model"), model_row)
        form.addRow("", self.model_warning)
        form.addRow(self.tr("Face detector"), self.detector)
        form.addRow(self.tr("Output folder"), out_row)
        form.addRow(self.tr("File name"), self.name_pattern)
        form.addRow(self.tr("Quality (CRF)"), self.crf)
        form.addRow(self.tr("Encoder preset"), self.preset)
        form.addRow(self.tr("Video encoder"), self.encoder)
        form.addRow(self.tr("Hardware decoding"), self.hw_decode)
        form.addRow(self.tr("Short video"), self.loop)
        form.addRow(self.tr("Lip-sync area"), self.mask)
        form.addRow(self.tr("Soft edge"), self.feather)
        form.addRow(self.tr("Face enhancer"), self.enhancer)
        form.addRow(self.tr("Stall timeout"), self.stall_timeout)
        form.addRow(self.tr("Jobs per device"), self.max_parallel)
        form.addRow(self.tr("Render on"), self.render_on)
        form.addRow(self.tr("Cluster address"), self.ray_address)
        form.addRow(self.tr("Language"), self.language)
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
        self._check_model()

    def values(self) -> AppSettings:
        return AppSettings(
            device=self.device.currentData(),
            model=self.model.currentData(),
            detector=self.detector.currentData(),
            output_dir=self.output_dir.text().strip(),
            name_pattern=self.name_pattern.text().strip(),
            crf=self.crf.value(),
            preset=self.preset.currentData(),
            encoder=self.encoder.currentData(),
            hw_decode=self.hw_decode.currentData(),
            loop=self.loop.currentData(),
            stall_timeout_s=float(self.stall_timeout.value()),
            max_parallel=self.max_parallel.value(),
            language=self.language.currentData(),
            mask=self.mask.currentData(),
            feather=round(self.feather.value(), 2),
            enhancer=self.enhancer.currentData(),
            render_on=self.render_on.currentData(),
            ray_address=self.ray_address.text().strip() or "auto",
        )

    def _render_on_changed(self) -> None:
        self.ray_address.setEnabled(self.render_on.currentData() == RAY)

    def _check_model(self) -> None:
        """Say so when the default model is one this machine has not installed."""
        name = self.model.currentData()
        missing = bool(missing_models([name])) if name else False
        self.model_warning.setText(
            self.tr(
                "{model} is not installed: new jobs would fail. Download or import it in "
                "Models first."
            ).format(model=name)
            if missing
            else ""
        )
        self.model_warning.setVisible(missing)
        self.model_models.setVisible(missing)

    def _validate(self) -> None:
        problem = check_name_pattern(self.name_pattern.text().strip())
        self.problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Output folder"), self.output_dir.text() or default_output_dir()
        )
        if folder:
            self.output_dir.setText(folder)


def combo_box(items: list[tuple[str, str]], current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in items:
        combo.addItem(label, value)
    index = combo.findData(current)
    if index < 0:  # a value this machine does not offer (cuda:1 typed elsewhere): keep it
        combo.addItem(current, current)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
    return combo
