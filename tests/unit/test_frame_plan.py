"""Which source frame each output frame shows: ping-pong, repeat, trim, stills."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from app.engine.errors import InputError
from app.engine.render.frame_plan import REVERSE_CHUNK, plan_frames, source_index


class CountingSource:
    """Frames whose pixels are their index; counts how often decoding (re)starts."""

    def __init__(self, n: int):
        self.n, self.opens, self.max_read = n, 0, 0

    def frames(self, start: int = 0):
        self.opens += 1
        read = 0
        for i in range(start, self.n):
            read += 1
            self.max_read = max(self.max_read, read)
            yield np.full((2, 2, 3), i % 256, np.uint8)


def _run(n_src: int, n_out: int, loop: str):
    return list(plan_frames(CountingSource(n_src), n_out, loop))


@pytest.mark.parametrize("loop", ["pingpong", "repeat"])
@pytest.mark.parametrize("n_src,n_out", [(5, 3), (5, 5), (5, 13), (1, 4), (2, 7), (100, 450)])
def test_every_output_frame_shows_the_planned_source_frame(n_src, n_out, loop):
    planned = _run(n_src, n_out, loop)
    assert [p.out_index for p in planned] == list(range(n_out))
    assert [p.src_index for p in planned] == [source_index(t, n_src, loop) for t in range(n_out)]
    for p in planned:
        assert p.frame[0, 0, 0] == p.src_index % 256
    assert [p.first_visit for p in planned] == [t < n_src for t in range(n_out)]


def test_pingpong_bounces_without_repeating_the_turning_frames():
    assert [source_index(t, 4, "pingpong") for t in range(10)] == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]
    assert [source_index(t, 4, "repeat") for t in range(6)] == [0, 1, 2, 3, 0, 1]


def test_backward_runs_hold_one_chunk_of_frames_at_a_time():
    """Memory stays flat: at most one reversed chunk of decoded frames is alive."""
    refs: list[weakref.ref] = []

    class TrackedSource(CountingSource):
        def frames(self, start: int = 0):
            for frame in super().frames(start):
                refs.append(weakref.ref(frame))
                yield frame

    most_alive = 0
    for planned in plan_frames(TrackedSource(200), 600, "pingpong"):
        del planned
        most_alive = max(most_alive, sum(r() is not None for r in refs))
    assert most_alive <= REVERSE_CHUNK + 1


def test_every_output_frame_is_its_own_array():
    """Blending paints into frames in place, so no two output frames may share memory."""
    planned = _run(1, 5, "pingpong") + _run(3, 9, "pingpong")
    ids = [id(p.frame) for p in planned[:5]]
    assert len(set(ids)) == 5


def test_a_video_with_no_decodable_frame_is_bad_input():
    with pytest.raises(InputError, match="clip.mp4"):
        list(plan_frames(CountingSource(0), 10, "pingpong", "clip.mp4"))


def test_a_still_keeps_its_picture_when_the_render_draws_on_frame_0():
    """The render pastes into the frames it is given: a mouth drawn on output frame 0 of
    a still must not show on every later frame (it did: the draft never closed)."""
    frames = []
    for planned in plan_frames(CountingSource(1), 4, "pingpong"):
        planned.frame[...] = 200 + planned.out_index  # what a paste does, in place
        frames.append(planned)
    assert [int(p.frame[0, 0, 0]) for p in frames] == [200, 201, 202, 203]
    fresh = [p.frame for p in plan_frames(CountingSource(1), 3, "pingpong")]
    assert all(int(f[0, 0, 0]) == 0 for f in fresh)
