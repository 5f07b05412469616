"""The preview pane: the latest frame of a running job, a finished job's output played
with sound, a before/after comparison of one frame, and "Preview one frame".

Playback uses QtMultimedia (QMediaPlayer + QVideoWidget + QAudioOutput). Where that is
missing (a build without PySide6-Addons, or Linux without libpulse0, which Qt's
multimedia library links) a frame scrubber takes its place: the slider asks for one
decoded frame at a time, off the GUI thread, and the play button is disabled with
a tooltip saying why.

The pane itself never decodes or renders: it emits requests (`one_frame_requested`,
`compare_requested`, `scrub_requested`) and the window answers them with workers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    Q_ARG,
    QCoreApplication,
    QMetaObject,
    QRectF,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.elided_label import ElidedLabel
from app.ui.images import bgr_to_qimage

log = logging.getLogger(__name__)

try:  # PySide6-Addons: present in the normal install, optional in a minimal one
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

    HAVE_MULTIMEDIA = True
except ImportError:  # pragma: no cover - depends on the install
    HAVE_MULTIMEDIA = False

MODE_EMPTY, MODE_LIVE, MODE_PLAYER, MODE_PAIR, MODE_SCRUB = (
    "empty",
    "live",
    "player",
    "pair",
    "scrub",
)


class FrameView(QWidget):
    """One picture, scaled to fit with its aspect kept, on a dark background, with a
    caption in the corner. Painting only: images arrive ready-made."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._caption = ""
        self._placeholder = self.tr("Select a job to preview it")
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None, caption: str = "") -> None:
        self._image, self._caption = image, caption
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._image, self._caption, self._placeholder = None, "", text
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def caption(self) -> str:
        return self._caption

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 26, 30))
        if self._image is None or self._image.isNull():
            painter.setPen(QColor(150, 155, 165))
            painter.drawText(
                self.rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._placeholder,
            )
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        painter.drawImage(target, self._image)
        if self._caption:
            font = QFont(self.font())
            font.setBold(True)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            box = metrics.boundingRect(self._caption).adjusted(-8, -4, 8, 4)
            box.moveTopLeft(target.topLeft().toPoint() + self.rect().topLeft())
            box.translate(8, 8)
            painter.fillRect(box, QColor(0, 0, 0, 160))
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self._caption)


class PreviewPanel(QWidget):
    one_frame_requested = Signal(int)  # output frame index to render alone
    compare_requested = Signal(float)  # finished job: before/after of the frame at (s)
    scrub_requested = Signal(float)  # no QtMultimedia: show the output's frame at (s)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = MODE_EMPTY
        self._pair: tuple[QImage, QImage] | None = None
        self._pair_caption = ""
        self._live_job: int | None = None

        self.title = ElidedLabel(self.tr("Preview"))
        self.title.setStyleSheet("font-weight: 600;")
        self.view = FrameView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.player: QMediaPlayer | None = None
        self.audio: QAudioOutput | None = None
        self.video_widget: QWidget | None = None
        if HAVE_MULTIMEDIA:
            self.video_widget = QVideoWidget()
            self.player = QMediaPlayer(self)
            self.audio = QAudioOutput(self)
            self.player.setAudioOutput(self.audio)
            self.player.setVideoOutput(self.video_widget)
            self.player.positionChanged.connect(self._on_position)
            self.player.durationChanged.connect(self._on_duration)
            self.player.playbackStateChanged.connect(self._on_playback_state)
            self.player.errorOccurred.connect(self._on_player_error)
            self.stack.addWidget(self.video_widget)

        self.play_button = QToolButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip(self.tr("Play the finished render with sound (Space)"))
        if self.player is None:  # disabled for good: say why, and what works instead
            self.play_button.setToolTip(
                self.tr(
                    "Playback is unavailable: QtMultimedia did not load (on Linux it needs "
                    "libpulse0). Drag the slider to step through the render frame by frame."
                )
            )
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(self._on_slider_moved)
        self.slider.valueChanged.connect(self._on_slider_value)
        self.time_label = QLabel("")
        self.time_label.setMinimumWidth(80)

        self.compare_button = QToolButton()
        self.compare_button.setText(self.tr("Before / After"))
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip(
            self.tr("Show this frame without lip-sync (checked) or with it (unchecked)")
        )
        self.compare_button.toggled.connect(self._on_compare_toggled)
        self.frame_spin = QSpinBox()
        self.frame_spin.setRange(0, 10_000_000)
        self.frame_spin.setPrefix(self.tr("frame "))
        self.frame_spin.setToolTip(self.tr('Output frame for "Preview one frame"'))
        self.one_frame_button = QPushButton(self.tr("Preview one frame"))
        self.one_frame_button.setToolTip(
            self.tr("Render only this frame of the selected job with the current settings")
        )
        self.one_frame_button.clicked.connect(
            lambda: self.one_frame_requested.emit(self.frame_spin.value())
        )

        transport = QHBoxLayout()
        transport.setContentsMargins(0, 0, 0, 0)
        transport.addWidget(self.play_button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.compare_button)
        tools.addStretch(1)
        tools.addWidget(self.frame_spin)
        tools.addWidget(self.one_frame_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        layout.addLayout(transport)
        layout.addLayout(tools)
        self._update_controls()

    # -- what to show ----------------------------------------------------------------

    @property
    def live_job(self) -> int | None:
        return self._live_job

    def show_empty(self, text: str = "") -> None:
        self._stop_player()
        self.mode, self._pair, self._live_job = MODE_EMPTY, None, None
        self.title.setText(self.tr("Preview"))
        self.view.set_placeholder(text or self.tr("Select a job to preview it"))
        self.stack.setCurrentWidget(self.view)
        self._update_controls()

    def show_still(self, frame: np.ndarray | QImage, title: str, caption: str = "") -> None:
        """A still (a queued job's first frame): no playback, no comparison."""
        self._stop_player()
        self.mode, self._pair, self._live_job = MODE_EMPTY, None, None
        self.title.setText(title)
        image = frame if isinstance(frame, QImage) else bgr_to_qimage(frame)
        self.view.set_image(image, caption)
        self.stack.setCurrentWidget(self.view)
        self._update_controls()

    def show_live(self, job_id: int, frame: np.ndarray, title: str, caption: str) -> None:
        """The newest frame of a running job (2-5 a second)."""
        if self.mode != MODE_LIVE or self._live_job != job_id:
            self._stop_player()
            self.mode, self._pair, self._live_job = MODE_LIVE, None, job_id
            self.stack.setCurrentWidget(self.view)
            self._update_controls()
        self.title.setText(title)
        self.view.set_image(bgr_to_qimage(frame), caption)

    def set_live_caption(self, job_id: int, caption: str) -> None:
        if self.mode == MODE_LIVE and self._live_job == job_id:
            self.view.set_image(self.view.image(), caption)

    def show_output(self, path: Path, title: str, duration_s: float = 0.0) -> None:
        """A finished render: played with sound, or scrubbed frame by frame (the slider
        counts milliseconds in both)."""
        self._pair, self._live_job = None, None
        self.title.setText(title)
        if self.player is not None and self.video_widget is not None:
            self.mode = MODE_PLAYER
            self.stack.setCurrentWidget(self.video_widget)
            url = QUrl.fromLocalFile(str(path))
            if self.player.source() != url:
                self.player.setSource(url)
            self.player.pause()  # loads the media and shows its first frame
        else:
            self.mode = MODE_SCRUB
            self.stack.setCurrentWidget(self.view)
            self.view.set_placeholder(self.tr("Loading…"))
            self.set_duration(duration_s)
            self.slider.setValue(0)
            self.scrub_requested.emit(0.0)
        self._update_controls()

    def set_duration(self, seconds: float) -> None:
        if self.mode == MODE_SCRUB:
            self.slider.setRange(0, max(0, int(seconds * 1000)))

    def show_scrub_frame(self, index: int, frame: np.ndarray) -> None:
        if self.mode == MODE_SCRUB:
            self.view.set_image(bgr_to_qimage(frame), f"frame {index}")
            self.time_label.setText(f"{self.slider.value() / 1000:.2f} s")

    def show_pair(
        self,
        before: np.ndarray,
        after: np.ndarray,
        title: str,
        caption: str = "",
        show_before: bool = False,
        from_player: bool = False,
    ) -> None:
        """One frame before and after lip-sync; the Before/After button flips them.

        from_player: the frame is the player's (Play goes back to it)."""
        self._stop_player(keep_source=from_player)
        self.mode, self._live_job = MODE_PAIR, None
        self._pair = (bgr_to_qimage(before), bgr_to_qimage(after))
        self._pair_caption = caption
        self.title.setText(title)
        self.stack.setCurrentWidget(self.view)
        self.compare_button.blockSignals(True)
        self.compare_button.setChecked(show_before)
        self.compare_button.blockSignals(False)
        self._show_pair_side()
        self._update_controls()

    def showing_before(self) -> bool:
        return self.mode == MODE_PAIR and self.compare_button.isChecked()

    def current_time_s(self) -> float:
        """Where the finished render's player (or scrubber) stands."""
        if self.mode == MODE_PLAYER and self.player is not None:
            return self.player.position() / 1000
        if self.mode == MODE_SCRUB:
            return self.slider.value() / 1000
        return 0.0

    # -- controls --------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.mode == MODE_PAIR and self._has_source():
            self.mode = MODE_PLAYER
            self.stack.setCurrentWidget(self.video_widget)
            self._update_controls()
        if self.mode != MODE_PLAYER or self.player is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _has_source(self) -> bool:
        return self.player is not None and not self.player.source().isEmpty()

    def _stop_player(self, keep_source: bool = False) -> None:
        if self.player is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        if not keep_source and not self.player.source().isEmpty():
            self.player.setSource(QUrl())

    def _on_compare_toggled(self, checked: bool) -> None:
        if self.mode == MODE_PAIR:
            self._show_pair_side()
        elif checked and self.mode in (MODE_PLAYER, MODE_SCRUB):
            if self.player is not None:
                self.player.pause()
            self.compare_requested.emit(self.current_time_s())

    def _show_pair_side(self) -> None:
        if self._pair is None:
            return
        before = self.compare_button.isChecked()
        side = self.tr("Before") if before else self.tr("After")
        caption = f"{side} · {self._pair_caption}" if self._pair_caption else side
        self.view.set_image(self._pair[0] if before else self._pair[1], caption)

    def _on_position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(ms)
            self.slider.blockSignals(False)
        self.time_label.setText(f"{ms / 1000:.1f} / {self.slider.maximum() / 1000:.1f} s")

    def _on_duration(self, ms: int) -> None:
        if self.mode == MODE_PLAYER:
            self.slider.setRange(0, max(0, ms))

    def _on_slider_moved(self, value: int) -> None:
        if self.mode == MODE_PLAYER and self.player is not None:
            self.player.setPosition(value)

    def _on_slider_value(self, value: int) -> None:
        if self.mode == MODE_SCRUB:
            self.scrub_requested.emit(value / 1000)

    def _on_playback_state(self, state: object) -> None:
        playing = self.player is not None and state == QMediaPlayer.PlaybackState.PlayingState
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_player_error(self, _error: object, message: str) -> None:
        log.warning("player: %s", message)
        self.title.setText(
            self.tr("{title}: cannot play: {error}").format(title=self.title.text(), error=message)
        )

    def _update_controls(self) -> None:
        playable = self.mode in (MODE_PLAYER, MODE_SCRUB) or (
            self.mode == MODE_PAIR and self._has_source()
        )
        self.play_button.setEnabled(playable and self.player is not None)
        self.slider.setEnabled(self.mode in (MODE_PLAYER, MODE_SCRUB))
        self.compare_button.setEnabled(self.mode in (MODE_PAIR, MODE_PLAYER, MODE_SCRUB))
        if self.mode not in (MODE_PAIR,):
            self.compare_button.blockSignals(True)
            self.compare_button.setChecked(False)
            self.compare_button.blockSignals(False)
        if self.mode in (MODE_EMPTY, MODE_LIVE):
            self.time_label.setText("")

    def set_one_frame_enabled(self, enabled: bool, busy: bool = False) -> None:
        self.one_frame_button.setEnabled(enabled and not busy)
        self.one_frame_button.setText(
            self.tr("Rendering…") if busy else self.tr("Preview one frame")
        )

    def shutdown(self) -> None:
        self.compare_button.toggled.disconnect(self._on_compare_toggled)
        if self.player is not None:
            for signal in (
                self.player.positionChanged,
                self.player.durationChanged,
                self.player.playbackStateChanged,
                self.player.errorOccurred,
            ):
                signal.disconnect()
            # Not player.stop() from here: it waits for FFmpeg's playback threads while this
            # thread holds Python's GIL, and a playback thread ending an object tied to the
            # player's (Python-made) signals needs the GIL: a deadlock at quit. Queued, the
            # event loop runs them with the GIL released.
            QMetaObject.invokeMethod(self.player, "stop", Qt.ConnectionType.QueuedConnection)
            QMetaObject.invokeMethod(
                self.player,
                "setSource",
                Qt.ConnectionType.QueuedConnection,
                Q_ARG(QUrl, QUrl()),
            )
            QCoreApplication.processEvents()
