"""The app's settings, kept in QSettings (organisation LipsyncStudio, app lipsync-studio).

`open_settings()` is the one place that says where: an INI file in the user's config
folder, or `$LIPSYNC_STUDIO_HOME/settings.ini` when that variable is set (portable
installs, and tests: conftest gives every test its own home).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths

from app.engine.settings import (
    DETECTORS,
    ENCODERS,
    HW_DECODERS,
    LOOP_MODES,
    MASK_PRESETS,
    PRESETS,
    RenderSettings,
)
from app.ui.farm_link import RENDER_TARGETS

ORGANISATION = "LipsyncStudio"
APPLICATION = "lipsync-studio"
GROUP = "render"
DEFAULT_NAME_PATTERN = "{video}_{audio}.mp4"
LANGUAGES = ("system", "en", "zh_CN")


def open_settings() -> QSettings:
    home = os.environ.get("LIPSYNC_STUDIO_HOME")
    if home:
        return QSettings(str(Path(home) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def default_output_dir() -> str:
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return str(Path(movies or Path.home()) / "Lipsync Studio")


@dataclass
class AppSettings:
    # The render's own settings (a field named as RenderSettings' goes into every job):
    # their defaults are the engine's.
    device: str = RenderSettings.device  # auto | cpu | cuda:N | dml:N
    model: str = RenderSettings.model  # auto | draft | a registry model
    detector: str = RenderSettings.detector
    crf: int = RenderSettings.crf
    preset: str = RenderSettings.preset
    encoder: str = RenderSettings.encoder  # settings.ENCODERS
    hw_decode: str = RenderSettings.hw_decode  # settings.HW_DECODERS
    loop: str = RenderSettings.loop
    mask: str = RenderSettings.mask  # where the lip-sync result lands: mouth | lower-face
    feather: float = RenderSettings.feather  # soft edge of that mask, 0..1
    enhancer: str = RenderSettings.enhancer  # none | a face-enhancer model name
    # The app's own.
    output_dir: str = ""  # "" -> default_output_dir()
    name_pattern: str = DEFAULT_NAME_PATTERN
    stall_timeout_s: float = 300.0
    max_parallel: int = 1  # jobs at once per device
    language: str = "system"  # system | en | zh_CN (applied at start-up)
    render_on: str = "local"  # local | ray (farm_link.RENDER_TARGETS)
    ray_address: str = "auto"  # the Ray cluster: auto (`ray start` on this machine) | HOST:PORT

    @classmethod
    def load(cls, qs: QSettings) -> AppSettings:
        out = cls()
        qs.beginGroup(GROUP)
        try:
            for f in fields(cls):
                default = getattr(out, f.name)
                value = qs.value(f.name, default, type=type(default))
                setattr(out, f.name, value)
        finally:
            qs.endGroup()
        out._sanitise()
        return out

    def save(self, qs: QSettings) -> None:
        qs.beginGroup(GROUP)
        try:
            for f in fields(self):
                qs.setValue(f.name, getattr(self, f.name))
        finally:
            qs.endGroup()
        qs.sync()

    def _sanitise(self) -> None:
        """Values a hand-edited or older settings file may hold that the engine refuses."""
        defaults = AppSettings()
        if self.render_on not in RENDER_TARGETS:
            self.render_on = defaults.render_on
        self.ray_address = self.ray_address.strip() or defaults.ray_address
        if self.preset not in PRESETS:
            self.preset = defaults.preset
        if self.encoder not in ENCODERS:
            self.encoder = defaults.encoder
        if self.hw_decode not in HW_DECODERS:
            self.hw_decode = defaults.hw_decode
        if self.loop not in LOOP_MODES:
            self.loop = defaults.loop
        if self.language not in LANGUAGES:
            self.language = defaults.language
        if self.detector not in DETECTORS:
            self.detector = defaults.detector
        if self.mask not in MASK_PRESETS:
            self.mask = defaults.mask
        self.feather = min(1.0, max(0.0, float(self.feather)))
        self.crf = min(51, max(0, int(self.crf)))
        self.max_parallel = min(8, max(1, int(self.max_parallel)))
        if not self.stall_timeout_s > 0:
            self.stall_timeout_s = defaults.stall_timeout_s

    @property
    def output_folder(self) -> Path:
        return Path(self.output_dir or default_output_dir())

    def render_settings(self, video: Path, audio: Path, output: Path) -> RenderSettings:
        chosen: dict[str, Any] = {name: getattr(self, name) for name in _RENDER_FIELDS}
        return RenderSettings(video=video, audio=audio, output=output, **chosen)

    def slots(self, devices: list[str]) -> dict[str, int]:
        """Scheduler slots: every device this machine offers, max_parallel jobs each."""
        return {device: self.max_parallel for device in devices}


# The fields AppSettings shares with RenderSettings: what a job gets from these settings.
_RENDER_FIELDS = tuple(
    f.name for f in fields(AppSettings) if f.name in {g.name for g in fields(RenderSettings)}
)
