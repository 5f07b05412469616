"""Help → About: the version, the licences of the models in use, the third-party notices."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app import __version__

translate = QCoreApplication.translate

THIRD_PARTY = (
    ("Qt / PySide6", "LGPL-3.0"),
    ("PyAV", "BSD-3-Clause"),
    ("FFmpeg (in PyAV's wheels)", "LGPL-2.1+"),
    ("ONNX Runtime", "MIT"),
    ("NumPy", "BSD-3-Clause"),
    ("OpenCV", "Apache-2.0"),
    ("platformdirs", "MIT"),
    ("YuNet face detector (OpenCV Zoo)", "MIT"),
)


def model_licences(names: Iterable[str]) -> list[tuple[str, str]]:
    """(model, licence) of the models named (the built-in draft model is ours)."""
    from app.engine.models import registry

    out: list[tuple[str, str]] = []
    known = {entry.name: entry for entry in registry.load_registry()}
    for name in dict.fromkeys(names):
        if name in ("auto", "draft"):
            out.append(("draft", translate("AboutDialog", "built in, MIT (this project)")))
        elif name in known:
            entry = known[name]
            licence = (
                translate("AboutDialog", "non-commercial use only")
                if entry.non_commercial
                else entry.licence
            )
            out.append((name, licence))
    return out


def about_html(models_in_use: Iterable[str]) -> str:
    def table(rows: Iterable[tuple[str, str]]) -> str:
        return (
            "<table>" + "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows) + "</table>"
        )

    blurb = translate("AboutDialog", "Offline lip-sync for presenter videos. Qt {qt}.")
    in_use = translate("AboutDialog", "Models in use")
    third_party = translate("AboutDialog", "Third-party software")
    return (
        f"<h3>Lipsync Studio {__version__}</h3><p>{blurb.format(qt=qVersion())}</p>"
        f"<h4>{in_use}</h4>{table(model_licences(models_in_use))}"
        f"<h4>{third_party}</h4>{table(THIRD_PARTY)}"
    )


class AboutDialog(QDialog):
    def __init__(self, models_in_use: Iterable[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("AboutDialog", "About Lipsync Studio"))
        self.resize(520, 420)
        self.text = QTextBrowser()
        self.text.setHtml(about_html(models_in_use))
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
