"""The main window's actions, toolbar and menus (what Qt Designer's setupUi would make):
every command with its text, icon, shortcut and tip, in one place.

The texts keep the "MainWindow" translation context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QStyle, QToolBar

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

translate = QCoreApplication.translate


def _action(
    window: MainWindow,
    text: str,
    slot: Callable[..., object],
    icon: QStyle.StandardPixmap | None = None,
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    return action


def install_actions(window: MainWindow) -> None:
    """Make the window's act_* actions, its toolbar and its menus."""
    sp = QStyle.StandardPixmap
    window.act_add_videos = _action(
        window,
        translate("MainWindow", "Add videos"),
        window.add_videos_dialog,
        sp.SP_FileDialogStart,
        "Ctrl+O",
        translate("MainWindow", "Add presenter videos or stills"),
    )
    window.act_add_audio = _action(
        window,
        translate("MainWindow", "Add audio"),
        window.add_audio_dialog,
        sp.SP_MediaVolume,
        "Ctrl+Shift+O",
        translate("MainWindow", "Add speech audio files"),
    )
    window.act_add_folder = _action(
        window,
        translate("MainWindow", "Add folder"),
        window.add_folder_dialog,
        sp.SP_DirIcon,
        "Ctrl+D",
        translate("MainWindow", "Add every video and audio in a folder"),
    )
    window.act_start = _action(
        window,
        translate("MainWindow", "Start"),
        window.start,
        sp.SP_MediaPlay,
        "Ctrl+Return",
        translate("MainWindow", "Render the queued jobs"),
    )
    window.act_pause = _action(
        window,
        translate("MainWindow", "Hold"),
        window.pause,
        sp.SP_MediaPause,
        "Ctrl+P",
        translate("MainWindow", "Start no new job; the ones rendering now finish"),
    )
    window.act_auto_start = _action(
        window,
        translate("MainWindow", "Start new jobs automatically"),
        window._toggle_auto_start,
        None,
        None,
        translate("MainWindow", "Render jobs as soon as they are added, without pressing Start"),
    )
    window.act_auto_start.setCheckable(True)
    window.act_auto_start.setChecked(window.queue.auto_start)
    window.act_cancel = _action(
        window,
        translate("MainWindow", "Cancel"),
        window.cancel_selected,
        sp.SP_MediaStop,
        "Ctrl+.",
        translate("MainWindow", "Cancel the selected jobs (a cancelled job leaves no file)"),
    )
    window.act_remove = _action(
        window,
        translate("MainWindow", "Remove"),
        window.remove_selected,
        sp.SP_TrashIcon,
        QKeySequence.StandardKey.Delete,
        translate("MainWindow", "Remove the selected jobs from the list"),
    )
    window.act_retry = _action(
        window,
        translate("MainWindow", "Retry"),
        window.retry_selected,
        sp.SP_BrowserReload,
        "Ctrl+R",
        translate("MainWindow", "Queue the selected finished jobs again"),
    )
    window.act_choose_face = _action(
        window,
        translate("MainWindow", "Choose face…"),
        window.choose_face,
        None,
        "Ctrl+F",
        translate("MainWindow", "Click the face that should speak, in the frame the preview shows"),
    )
    window.addAction(window.act_choose_face)  # its shortcut works wherever the focus is
    window.act_clear = _action(
        window,
        translate("MainWindow", "Clear finished"),
        window.clear_finished,
        sp.SP_DialogResetButton,
        None,
        translate(
            "MainWindow", "Remove done, failed and cancelled jobs from the list (their files stay)"
        ),
    )
    window.act_open_folder = _action(
        window,
        translate("MainWindow", "Open output folder"),
        window.open_output_folder,
        sp.SP_DirOpenIcon,
        None,
        translate("MainWindow", "Open the folder of the selected job's output"),
    )
    # The toolbar's shorter label (menus keep the full text): at 1024 px the full one went
    # behind the » extension menu.
    window.act_open_folder.setIconText(translate("MainWindow", "Output folder"))
    window.act_open_file = _action(
        window,
        translate("MainWindow", "Open the render"),
        window.open_output_file,
        None,
        "Ctrl+Shift+Return",
    )
    window.act_reveal = _action(
        window, translate("MainWindow", "Show in folder"), window.open_output_folder
    )
    window.act_copy_path = _action(
        window,
        translate("MainWindow", "Copy output path"),
        window.copy_output_path,
        None,
        QKeySequence.StandardKey.Copy,
    )
    window.act_settings = _action(
        window, translate("MainWindow", "Settings…"), window.open_settings, None, "Ctrl+,"
    )
    window.act_models = _action(
        window,
        translate("MainWindow", "Models…"),
        window.open_models,
        None,
        "Ctrl+M",
        translate("MainWindow", "Download, import and check lip-sync models"),
    )
    window.act_log = window.log_dock.toggleViewAction()
    window.act_log.setText(translate("MainWindow", "Log"))
    window.act_log.setShortcut(QKeySequence("Ctrl+L"))
    window.act_about = _action(
        window,
        translate("MainWindow", "About Lipsync Studio"),
        window.show_about,
        None,
        QKeySequence.StandardKey.HelpContents,
    )
    window.act_quit = _action(
        window, translate("MainWindow", "Quit"), window.close, None, QKeySequence.StandardKey.Quit
    )
    for action in window.findChildren(QAction):
        window.addAction(action)  # their shortcuts work whatever has the focus
    window.addAction(window.act_log)
    window.play_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), window)
    window.play_shortcut.activated.connect(window.preview.toggle_play)

    toolbar = QToolBar(translate("MainWindow", "Batch"))
    toolbar.setObjectName("batch_toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setMovable(False)
    for action in (
        window.act_add_videos,
        window.act_add_audio,
        window.act_add_folder,
        None,
        window.act_start,
        window.act_pause,
        window.act_cancel,
        None,
        window.act_remove,
        window.act_retry,
        window.act_clear,
        None,
        window.act_open_folder,
    ):
        toolbar.addSeparator() if action is None else toolbar.addAction(action)
    window.addToolBar(toolbar)
    window.toolbar = toolbar

    menu = window.menuBar()
    file_menu = menu.addMenu(translate("MainWindow", "&File"))
    for action in (window.act_add_videos, window.act_add_audio, window.act_add_folder):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(window.act_quit)
    queue_menu = menu.addMenu(translate("MainWindow", "&Queue"))
    for action in (
        window.act_start,
        window.act_pause,
        window.act_auto_start,
        None,
        window.act_cancel,
        window.act_retry,
        window.act_remove,
        window.act_clear,
        window.act_choose_face,
        None,
        window.act_open_file,
        window.act_reveal,
        window.act_copy_path,
    ):
        queue_menu.addSeparator() if action is None else queue_menu.addAction(action)
    tools_menu = menu.addMenu(translate("MainWindow", "&Tools"))
    for action in (window.act_settings, window.act_models, window.act_log):
        tools_menu.addAction(action)
    help_menu = menu.addMenu(translate("MainWindow", "&Help"))
    help_menu.addAction(window.act_about)
