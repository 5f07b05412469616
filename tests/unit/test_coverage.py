"""Face coverage: when a finished render counts as done-with-warning."""

from __future__ import annotations

from app.engine.render.coverage import FaceCoverage


def test_under_half_or_no_face_warns_and_half_or_more_does_not() -> None:
    assert FaceCoverage(183, 200).text == "face in 183 of 200 frames"
    assert FaceCoverage(183, 200).warning is None
    assert FaceCoverage(100, 200).warning is None
    low = FaceCoverage(99, 200).warning
    assert low is not None and "99 of 200" in low and "under half" in low
    none = FaceCoverage(0, 200).warning
    assert none is not None and none.startswith("no face found")
