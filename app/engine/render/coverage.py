"""Face coverage of a render: in how many output frames the chosen face was animated.

A render whose face was found nowhere, or in under half of its frames, still writes
its output, but ends as done-with-warning: the CLI prints the warning (exit 0), the
job store keeps it beside the job, the GUI shows it as its own state.
"""

from __future__ import annotations

from dataclasses import dataclass

LOW_COVERAGE = 0.5  # below this fraction of frames with a face, a render is flagged


@dataclass(frozen=True)
class FaceCoverage:
    frames_with_face: int
    frames: int

    @property
    def fraction(self) -> float:
        return self.frames_with_face / self.frames if self.frames else 0.0

    @property
    def text(self) -> str:
        """'face in 183 of 200 frames'"""
        return f"face in {self.frames_with_face} of {self.frames} frames"

    @property
    def warning(self) -> str | None:
        """Why the render needs a look, or None when the face was covered well enough."""
        if self.frames_with_face == 0:
            return "no face found in any frame; the video was rendered unchanged"
        if self.fraction < LOW_COVERAGE:
            return f"{self.text} (under half): the rest were left unchanged"
        return None
