"""The app's language: our translation (resources/i18n/lipsync_studio_LANG.qm) and Qt's
own (qtbase_LANG.qm, for the standard dialogs' buttons), installed before any widget is
made. Settings → Language picks System, English or 简体中文; it applies at the next start.

Every visible string goes through Qt's translation: `self.tr()` in a QObject, else
`QCoreApplication.translate("Context", …)`. `tools/i18n.py` extracts them with
pyside6-lupdate and compiles the .qm with pyside6-lrelease.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.engine import paths
from app.ui.app_settings import LANGUAGES

log = logging.getLogger(__name__)

CATALOGUE = "lipsync_studio"
SOURCE_LANGUAGE = "en"  # the strings in the code


def language_label(code: str) -> str:
    """A language as its own speakers write it (System in the current language)."""
    if code == "system":
        return QCoreApplication.translate("Language", "System")
    return {"en": "English", "zh_CN": "简体中文"}.get(code, code)


def i18n_dir() -> Path:
    return paths.resources_dir() / "i18n"


def resolve_language(setting: str, system: QLocale | None = None) -> str:
    """The language to load: the setting, or for "system" the closest one we have."""
    if setting in LANGUAGES and setting != "system":
        return setting
    locale = system or QLocale.system()
    if locale.language() == QLocale.Language.Chinese:
        # Traditional Chinese readers (zh_TW, zh_HK) get English rather than the wrong script.
        simplified = locale.script() == QLocale.Script.SimplifiedHanScript
        return "zh_CN" if simplified else SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def install_translators(app: QCoreApplication, setting: str) -> list[QTranslator]:
    """Load and install the translators for `setting`; returns them (keep them alive:
    a translator collected by Python stops translating)."""
    language = resolve_language(setting)
    if language == SOURCE_LANGUAGE:
        return []
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    if ours.load(f"{CATALOGUE}_{language}", str(i18n_dir())):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning("no %s translation in %s", language, i18n_dir())
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    QLocale.setDefault(QLocale(language))
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    for translator in translators:
        app.removeTranslator(translator)
    QLocale.setDefault(QLocale(QLocale.Language.English))
