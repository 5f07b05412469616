"""The status bar's line and the window title, from the batch's counts: words only.

Every number here is a count of the listed jobs (the list and the line never disagree);
the overall bar shows only while something is queued or rendering.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from app.engine.progress import format_duration
from app.ui.batch_model import BatchSummary

translate = QCoreApplication.translate


def summary_text(
    summary: BatchSummary,
    *,
    queue_running: bool,
    owns_queue: bool,
    eta: float | None = None,
    whole_batch: bool = False,
) -> str:
    if summary.total == 0:
        return translate("BatchStatus", "No jobs yet: drop presenter videos and speech audio")
    parts = [
        translate("BatchStatus", "{done} of {total} done").format(
            done=summary.done, total=summary.total
        )
    ]
    if summary.failed:
        parts.append(translate("BatchStatus", "{n} failed").format(n=summary.failed))
    if summary.cancelled:
        parts.append(translate("BatchStatus", "{n} cancelled").format(n=summary.cancelled))
    if summary.running:
        parts.append(
            translate("BatchStatus", "{n} rendering at {fps} fps").format(
                n=summary.running, fps=f"{summary.fps:.1f}"
            )
        )
    if summary.queued:
        parts.append(translate("BatchStatus", "{n} queued").format(n=summary.queued))
    if summary.running and eta is not None:
        left = (
            translate("BatchStatus", "about {time} left")
            if whole_batch
            else translate("BatchStatus", "this job {time} left")
        )
        parts.append(left.format(time=format_duration(eta)))
    if not owns_queue:
        parts.append(translate("BatchStatus", "another window runs the queue"))
    elif summary.queued and not queue_running:
        parts.append(translate("BatchStatus", "queue stopped: press Start"))
    return " · ".join(parts)


def window_title(summary: BatchSummary, app_name: str) -> str:
    """The app's name alone when idle; the batch's progress first while rendering.

    Qt appends the application display name to a title that differs from it, so a
    rendering title leaves the name out."""
    if not summary.running:
        return app_name
    return translate("BatchStatus", "{percent}% rendered").format(
        percent=int(summary.batch_fraction * 100)
    )
