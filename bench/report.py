"""results.json -> RESULTS.md: a table per section, targets beside the measured values."""

from __future__ import annotations

from bench.efficiency import STAGES, TARGET

SEQUENTIAL_TARGET = 0.92

FACE_LABELS = {1: "every frame", 5: "every 5th frame, tracked between"}


def _status(met: bool) -> str:
    return "**met**" if met else "**not met**"


def _table(header: list[str], rows: list[list[object]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _render_name(row: dict) -> str:
    model = "draft" if row["model"] == "draft" else f"Wav2Lip stand-in, batch {row['batch']}"
    return f"{row['resolution']} {model}"


def markdown(r: dict) -> str:
    out: list[str] = []
    add = out.append
    add("# Lipsync Studio engine benchmark\n")
    if r["quick"]:
        add(
            "> **--quick run** (CI's smoke test): short inputs, no waiting for a quiet "
            "machine, noisy numbers; a full run (`python -m bench --out bench`) replaces "
            "them.\n"
        )
    add(f"- Command: `{r['command']}`")
    if r.get("only"):
        add(f"- Sections run: only {', '.join(r['only'])} (`--only`)")
    add(f"- Date: {r['date']}")
    add(
        f"- Run time: {r['total_s']:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in r["timings_s"].items())
        + ")"
    )
    q = r.get("quiet_wait", {})
    add(
        "- Every target is a ratio of two measurements taken side by side in this run; the "
        "machine is shared (other processes were running), so single numbers are noisy. "
        "Before each measurement the run waited (up to "
        f"{r['plan']['quiet_wait_s']:g} s, {q.get('waited_s', 0):.0f} s in all) for other "
        "processes to use under 0.25 cores; what they used during each measurement is "
        "shown as *others' cores*. Load averages per section are in results.json.\n"
    )
    _machine(r, add)
    _summary(r, add)
    sections = (  # results key -> its writer; an `--only` run has some of the keys
        ("probe", _probe),
        ("stages", _stages_to_sequential),
        ("memory", _memory),
        ("batch", _batch),
        ("encoders", _encoders),
        ("large_frames", lambda r, add: add(large_frames_markdown(r["large_frames"]))),
        ("enhancer", lambda r, add: add(enhancer_markdown(r["enhancer"]))),
    )
    for key, write in sections:
        if r.get(key):
            write(r, add)
    add("---\n")
    add(
        "Also in bench/: `bench_jobstore.py` (the job queue at 100,000 jobs) and "
        "`standin_throughput.py` (the Wav2Lip stand-in's fps per variant and batch size on "
        "ONNX Runtime's default threads); each prints its own table. `python -m bench "
        "--device cuda|dml` (bench/gpu.py, run by `tools/gpu_check.sh`) writes bench/gpu/."
    )
    return "\n".join(out) + "\n"


def _machine(r: dict, add) -> None:
    m = r["machine"]
    add("## Machine\n")
    add(
        _table(
            ["", ""],
            [
                [
                    "CPU",
                    f"{m['cpu']} ({m['cpu_family_model']}; {', '.join(m['simd']) or 'no AVX2'}"
                    f"{'; virtual machine' if m['hypervisor'] else ''})",
                ],
                ["cores", f"{m['cores']} usable ({m['logical_cpus']} logical)"],
                ["RAM", f"{m['ram_gb']} GB"],
                ["OS", m["os"]],
                ["Python", m["python"]],
                [
                    "numpy / onnxruntime / av (libavcodec) / opencv",
                    f"{m['numpy']} / {m['onnxruntime']} / {m['av']} ({m['ffmpeg_libavcodec']}) / "
                    f"{m['opencv']} ({m['opencv_threads']} threads)",
                ],
            ],
            "ll",
        )
    )
    i = r["inputs"]
    add(
        "Inputs (made by the run, bench/inputs.py): presenter "
        + "; ".join(f"{k}: {v}" for k, v in i["presenter"].items())
        + f", from `{i['face_image']}` with a gentle looping head motion and light grain; "
        f"{i['speech']}; detector {i['detector']}"
        + (f"; {i['wav2lip_standin']}" if "wav2lip_standin" in i else "")
        + ".\n"
    )


def _summary(r: dict, add) -> None:
    add("## Targets\n")
    rows = []
    for e in r.get("efficiency", []):
        rows.append(
            [
                f"3. pipeline efficiency on the machine floor, {_render_name(e)}",
                f">= {TARGET}",
                f"{e['machine_efficiency']:.2f}" + (" (disturbed)" if e.get("disturbed") else ""),
                _status(e["met"]),
            ]
        )
    for s in r.get("sequential", []):
        if s.get("sequential_ort_default"):
            rows.append(
                [
                    f"4. ours / sequential at ONNX Runtime's default threads, {s['render']}",
                    f"<= {SEQUENTIAL_TARGET}",
                    f"{s['time_ratio']:.2f}",
                    _status(s["time_ratio"] <= SEQUENTIAL_TARGET),
                ]
            )
    if "memory" in r:
        mem = r["memory"]
        short_s, long_s = (x["seconds"] for x in mem["renders"])
        rows.append(
            [
                f"5. peak RSS, {long_s:g} s render / {short_s:g} s render (720p draft)",
                f"<= {mem['target']}",
                f"{mem['ratio']:.2f}",
                _status(mem["met"]),
            ]
        )
    if "batch" in r and "target" in r["batch"]:
        b = r["batch"]
        rows.append(
            [
                f"6. one presenter x {b['audios']} audios, reuse on / off (draft)",
                f"<= {b['target']}",
                f"{b['time_ratio']:.2f}",
                _status(b["time_ratio"] <= b["target"]),
            ]
        )
    for x in r.get("large_frames", {}).get("renders", []):
        if x["target_gb"] is not None:
            rows.append(
                [
                    f"8. peak RSS GB, {x['input']} (draft)",
                    f"<= {x['target_gb']}",
                    f"{x['peak_rss_gb']:.2f}",
                    _status(x["met"]),
                ]
            )
    if rows:
        add(_table(["what", "target", "measured", ""], rows, "lrrl"))
    else:
        add("No section with a target ran.\n")
    add(
        "Sections 1 and 9 have no target; their numbers are reported below. "
        "*Disturbed*: other processes kept more than 0.25 cores busy during the render or "
        "during one of the stages-alone measurements its floor comes from, so that ratio "
        "is not trustworthy (section 3 gives the numbers).\n"
    )


def _stages_to_sequential(r: dict, add) -> None:
    """Sections 2-4: they run together (sections.stages_pipeline_baseline)."""
    _stages(r, add)
    _efficiency(r, add)
    _sequential(r, add)


def _probe(r: dict, add) -> None:
    p = r["probe"]
    add("## 1. Probe: media duration in-process vs ffprobe\n")
    rows = [["`app.engine.render.media.probe` (in-process)", f"{p['in_process_ms']:.2f}"]]
    if "ffprobe_ms" in p:
        rows.append(
            ["`ffprobe -show_entries format=duration` (subprocess)", f"{p['ffprobe_ms']:.2f}"]
        )
        rows.append(["ratio ffprobe / in-process", f"{p['ffprobe_over_in_process']:.1f}x"])
    else:
        rows.append(["ffprobe", p["ffprobe"]])
    add(_table(["", f"median ms per call ({p['calls']} calls)"], rows))
    add(
        f"File: the {p['duration_s']:g} s 720p presenter. `media.probe` also decodes the "
        "first frame of each stream (the input check); ffprobe reads the header only.\n"
    )


def _cores(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _cost_row(label: str, c: dict, note: str = "") -> list[object]:
    return [
        label,
        f"{c['fps']:.1f}",
        f"{c['wall_ms_per_frame']:.2f}",
        f"{c['cpu_ms_per_frame']:.2f}",
        f"{c['thread_cpu_ms_per_frame']:.2f}",
        _cores(c.get("others_cores")),
        note,
    ]


def _stages(r: dict, add) -> None:
    add("## 2. Stages alone, 25 fps\n")
    add(
        "Each stage alone over frames held in memory, with the engine's own pieces "
        "(bench/stages.py). CPU = process CPU time (every thread: FFmpeg's, x264's, "
        "OpenCV's, ONNX Runtime's) per frame; thread CPU = the calling thread only "
        "(`time.thread_time`, what RenderResult.stages counts). Others' cores: how many "
        "cores other processes on the machine kept busy meanwhile (/proc/stat). Stages "
        f"that take seconds ran {r['plan']['repeats']} time(s), the fastest kept.\n"
    )
    for res, s in r["stages"].items():
        rows = [_cost_row("decode", s["decode"])]
        for key, f in s["faces"].items():
            rows.append(
                _cost_row(
                    f"faces: {f['detector']}, {FACE_LABELS.get(f['interval'], key)}",
                    f,
                    f"{f['detections']} detections"
                    + (f" in the first {f['frames']} frames" if f["frames"] != s["frames"] else "")
                    + (" (used below)" if key == s["track_from"] else ""),
                )
            )
        d, w = s["model"]["draft"], s["model"]["wav2lip"]
        rows.append(
            _cost_row(
                f"model: draft (batch {d['batch']})",
                d,
                f"{d['pasted']} of {d['frames']} frames changed",
            )
        )
        rows.append(
            _cost_row(
                f"model: Wav2Lip stand-in fp32 (batch {w['batch']})",
                w,
                f"first {w['frames']} frames",
            )
        )
        rows.append(_cost_row("blend (draft's crops)", s["blend"]["draft"]))
        rows.append(_cost_row("blend (Wav2Lip's crops)", s["blend"]["wav2lip"]))
        rows.append(_cost_row("encode: libx264 veryfast crf 18 + AAC", s["encode"]))
        add(f"### {res} ({s['frames']} frames)\n")
        add(
            _table(
                [
                    "stage",
                    "fps",
                    "wall ms/frame",
                    "CPU ms/frame",
                    "thread CPU ms/frame",
                    "others' cores",
                    "",
                ],
                rows,
                "lrrrrrl",
            )
        )
        if "threads" in s:
            add(f"#### {res}: each stage at the app's threads and at one thread\n")
            trows = []
            for stage, costs in s["threads"].items():
                best = min(costs, key=lambda k: costs[k]["cpu_ms_per_frame"])
                for label, c in costs.items():
                    name = {"app": "the app's", "1": "1 thread"}.get(label, label)
                    mark = "least CPU" if label == best and len(costs) > 1 else ""
                    trows.append(_cost_row(f"{stage}, {name}", c, mark))
            add(
                _table(
                    ["stage, threads", "fps", "wall ms/f", "CPU ms/f", "thread CPU ms/f"]
                    + ["others' cores", ""],
                    trows,
                    "lrrrrrl",
                )
            )
    b = r["wav2lip_batches"]
    add("### Wav2Lip stand-in: batch size (720p crops, the app's CPU session)\n")
    add(
        _table(
            ["batch", "fps", "frames"],
            [[k, f"{v:.2f}", b["costs"][k]["frames"]] for k, v in b["fps"].items()],
        )
    )
    add(
        f"Best: batch {b['best']} (used for the Wav2Lip rows). The app runs the model on "
        f"every core as {r['machine']['cores']} workers of one ONNX Runtime intra-op thread "
        "each, on alternate batches, spinning off (app/engine/threads.py, "
        "model_workers.py); FFmpeg's decoder and libx264 choose their own threads; OpenCV "
        "runs one thread (with the model on the CPU; every stage of section 2 was measured "
        "so).\n"
    )


def _diagnosis(e: dict) -> str:
    st, floor = e["stages"], e["floor"]
    b, slowest = e["bottleneck"], floor["slowest_stage"]
    parts = [
        f"busiest thread: **{b}** ({st[b]['busy']:.0%} of the render; "
        f"{st[b]['wall_vs_alone']:.2f}x its wall per frame alone)"
    ]
    if slowest != b or st[slowest]["busy"] < 0.95:
        parts.append(
            f"the slowest stage alone, {slowest}, is busy {st[slowest]['busy']:.0%}: "
            f"it waits on its queues the rest"
        )
    parts.append(
        f"floor bound by {floor['bound']} ({floor['floor_fps']:.1f} fps; "
        f"{floor['cpu_ms_per_frame']:.1f} CPU ms/frame alone, "
        f"{e['cpu_ms_per_frame']:.1f} in the render, "
        f"{e['cpu_utilisation']:.0%} of {floor['cores']} cores used)"
    )
    parts.append(
        f"first frame after {e['first_frame_s']:.2f} s; first-to-last-frame rate "
        f"{e['steady_fps']:.1f} fps = {e['steady_efficiency']:.2f} of the floor"
    )
    return "; ".join(parts) + "."


def _efficiency(r: dict, add) -> None:
    add("## 3. Pipeline efficiency: end-to-end fps / floor\n")
    add(
        "**machine floor** (the target's) = cores / sum of every stage's CPU seconds per "
        "frame alone, each stage at its best thread count (least CPU per frame: the app's "
        "threads or one thread, section 2). **old floor** (kept for comparison) = "
        "min(slowest stage's fps alone, cores / sum of every stage's CPU seconds "
        "per frame alone), both at the app's threads, from section 2 at the same "
        "resolution. The render: "
        f"`pipeline.render` in a fresh process, detector {r['inputs']['detector']}, "
        "track cache off, "
        "fps = frames / RenderResult.elapsed_s (input checks and audio included); draft "
        "renders ran `repeats` times, the fastest kept. Per stage: busy = the stage's "
        "RenderResult.stages wall / the render's elapsed time (the model stage's sums its "
        "workers: up to cores x 100 % for an ONNX model on the CPU). In the render the "
        "blend thread also converts each frame to the encoder's YUV; alone, that "
        "conversion is part of encode.\n"
    )
    rows = []
    for e in r["efficiency"]:
        f = e["floor"]
        rows.append(
            [
                _render_name(e),
                f"{e['seconds']:g}",
                f"{e['fps']:.1f}",
                " / ".join(f"{x:.1f}" for x in e["runs_fps"]),
                f"{e['machine_floor_fps']:.1f}",
                f"**{e['machine_efficiency']:.2f}**"
                + (" (disturbed)" if e.get("disturbed") else ""),
                f"{f['slowest_fps']:.1f} ({f['slowest_stage']})",
                f"{f['cores_over_cpu_fps']:.1f}",
                f"{e['floor_fps']:.1f}",
                f"{e['efficiency']:.2f}",
                f">= {TARGET} {_status(e['met'])}",
                f"{_cores(e['others_cores'])} / {_cores(e.get('others_alone_max'))}",
            ]
        )
    add(
        _table(
            [
                "render",
                "s",
                "fps",
                "runs fps",
                "machine floor fps",
                "efficiency",
                "old: slowest alone fps",
                "old: cores / CPU fps",
                "old floor fps",
                "old efficiency",
                "target",
                "others' cores: render / stages alone",
            ],
            rows,
            "lrrrrrrrrrlr",
        )
    )
    for e in r["efficiency"]:
        add(f"### {_render_name(e)}\n")
        rows = []
        for name in STAGES:
            s = e["stages"][name]
            rows.append(
                [
                    name,
                    f"{s['alone_wall_ms']:.2f}",
                    f"{s['alone_cpu_ms']:.2f}",
                    f"{s['alone_thread_cpu_ms']:.2f}",
                    f"{s['pipeline_wall_ms']:.2f}",
                    f"{s['pipeline_thread_cpu_ms']:.2f}",
                    f"{s['busy']:.0%}",
                    f"{s['wall_vs_alone']:.2f}x" if s["wall_vs_alone"] else "-",
                ]
            )
        add(
            _table(
                [
                    "stage",
                    "alone wall ms/f",
                    "alone CPU ms/f",
                    "alone thread CPU ms/f",
                    "render wall ms/f",
                    "render thread CPU ms/f",
                    "busy",
                    "wall vs alone",
                ],
                rows,
            )
        )
        m = e["machine_floor"]
        add(
            _diagnosis(e)
            + " Machine floor: "
            + ", ".join(
                f"{stage} {m['stage_cpu_ms'][stage]:.2f} ms ({m['threads'][stage]})"
                for stage in STAGES
            )
            + f" = {m['cpu_ms_per_frame']:.1f} CPU ms/frame -> {m['fps']:.1f} fps.\n"
        )


def _sequential(r: dict, add) -> None:
    add("## 4. Sequential baseline (the Wav2Lip inference script's structure)\n")
    add(
        "Same input, model, detector and encoder settings, built from the engine's pieces "
        "(bench/sequential.py): read every frame the audio needs into a list, detect all "
        "and cut every crop, infer batch by batch (each batch pasted and written right "
        "after, as inference.py calls `out.write` inside its batch loop; one thread), then "
        "mux the audio as a separate step. Each side in a fresh process, right after the "
        "other; time = the job without model loading; peak = VmHWM. The Wav2Lip baseline "
        "runs first on the app's session (as ours: only the structure differs), then (full "
        "run) on ONNX Runtime's defaults (every core, spinning on), which is what a plain "
        "script gets: the issue's target compares ours with that one.\n"
    )
    rows = []
    for s in r["sequential"]:
        phases = ", ".join(
            f"{k.removesuffix('_s')} {v:.1f}" for k, v in s["sequential_phases_s"].items()
        )
        threads = (
            "-"
            if s["ours_ort_threads"] is None
            else f"{s['ours_ort_threads']} / {s['sequential_ort_threads']}"
        )
        rows.append(
            [
                s["render"],
                s["frames"],
                threads,
                f"{s['ours_s']:.1f}",
                f"{s['sequential_s']:.1f}",
                f"**{s['time_ratio']:.2f}**",
                f"{s['ours_peak_mb']:.0f}",
                f"{s['sequential_peak_mb']:.0f}",
                f"**{s['memory_ratio']:.2f}**",
                phases,
                " / ".join(_cores(x) for x in s["others_cores"]),
            ]
        )
    add(
        _table(
            [
                "render",
                "frames",
                "ORT threads ours / seq.",
                "ours s",
                "sequential s",
                "ours / sequential time",
                "ours peak MB",
                "sequential peak MB",
                "ours / sequential peak",
                "sequential steps, s",
                "others' cores",
            ],
            rows,
            "lrrrrrrrrlr",
        )
    )


def _memory(r: dict, add) -> None:
    m = r["memory"]
    add("## 5. Flat memory: peak RSS of a short and a long render\n")
    add(
        f"720p, draft model, detector {r['inputs']['detector']}, the app's defaults (track "
        "cache on, empty), each render in a fresh process; peak = VmHWM at exit.\n"
    )
    if m.get("note"):
        add(f"> {m['note']}\n")
    rows = [
        [
            f"{x['seconds']:g} s",
            x["frames"],
            f"{x['peak_rss_mb']:.0f}",
            f"{x['fps']:.1f}",
            f"{x['audio_front_end_peak_mb']:.0f} (+{x['audio_front_end_mb']:.0f})",
            f"{x['mel_chunks_mb']:.0f}",
        ]
        for x in m["renders"]
    ]
    add(
        _table(
            [
                "render",
                "frames",
                "peak RSS MB",
                "fps",
                "audio front end alone: peak MB (+ added to the imports)",
                "mel chunks kept for the render, MB",
            ],
            rows,
        )
    )
    short, long = m["renders"]
    add(
        f"Ratio {long['seconds']:g} s / {short['seconds']:g} s: **{m['ratio']:.2f}**; "
        f"target <= {m['target']}: {_status(m['met'])}.\n"
    )
    grew = long["peak_rss_mb"] - short["peak_rss_mb"]
    front = long["audio_front_end_mb"] - short["audio_front_end_mb"]
    add(
        f"The long render peaks {grew:.0f} MB higher. The audio front end (what iter_render "
        "does before the first frame: `media.load_audio` at 16 kHz, `mel_spectrogram`, "
        "`mel_chunks`), run alone in a fresh process, peaks "
        f"{front:.0f} MB higher at the long length than at the short one, at "
        f"{long['audio_front_end_peak_mb']:.0f} MB: where that is near the long render's "
        "peak, the audio front end sets it, before the first frame is decoded. "
        "The mel chunks it keeps for the whole render are "
        f"{long['mel_chunks_mb']:.0f} MB vs {short['mel_chunks_mb']:.0f} MB.\n"
    )


def _batch(r: dict, add) -> None:
    b = r["batch"]
    add("## 6. Batch reuse: one presenter x several audios, reuse on vs off\n")
    add(
        f"{b['audios']} audios of {b['audio_s']:g} s on one {b['presenter_s']:g} s 720p "
        f"presenter, draft model, detector {_batch_detector(r)}; each job is "
        "`pipeline.render(settings)` "
        "as the scheduler runs it (model and detector made per job). The two series "
        "alternate job by job in one process, so both see the same background load; the "
        "cache starts empty. Reuse on = the face-track cache, plus the presenter's decoded "
        "frames, their YUV and their paste prep (masks, rectangle) kept in memory while "
        "more of its jobs follow (frame_cache.py)"
        + (
            f": {b['frames_kept_mb']:.0f} MB kept at most, budget {b['frames_budget_mb']:.0f} MB"
            if b.get("frames_budget_mb")
            else ""
        )
        + ".\n"
    )
    cpu_off, cpu_on = b.get("without_cache_cpu_s"), b.get("with_cache_cpu_s")
    cpu_ratio = f"{cpu_on / cpu_off:.2f}" if cpu_off and cpu_on else "-"
    add(
        _table(
            ["", "total s", "process CPU s", "detector calls"],
            [
                [
                    "reuse off",
                    f"{b['without_cache_s']:.2f}",
                    f"{cpu_off or 0:.2f}",
                    b["without_cache_detections"],
                ],
                [
                    "reuse on",
                    f"{b['with_cache_s']:.2f}",
                    f"{cpu_on or 0:.2f}",
                    b["with_cache_detections"],
                ],
                ["on / off", f"**{b['time_ratio']:.2f}**", cpu_ratio, ""],
            ],
        )
    )
    if b.get("stage_cpu_s"):
        on, off = b["stage_cpu_s"]["cache"], b["stage_cpu_s"]["no_cache"]
        add(
            "Thread CPU seconds per stage over the series (RenderResult.stages; FFmpeg's, "
            "x264's and OpenCV's own threads are not in these), off -> on: "
            + ", ".join(f"{k} {off[k]:.2f} -> {on.get(k, 0):.2f}" for k in off)
            + ".\n"
        )
    add(
        f"Cache: {b['cache_hits']} hits, {b['cache_misses']} misses; video hashed "
        f"{b['hashes_computed']} time(s), hash reused {b['hashes_reused']} time(s).\n"
    )


def _batch_detector(r: dict) -> str:
    """The batch's detector and schedule (older results: the run's detector line)."""
    schedule = r["batch"].get("schedule")
    if schedule is None:
        return r["inputs"]["detector"]
    return ("yunet" if "yunet" in r["inputs"]["detector"] else "haar") + f", {schedule}"


def _encoders(r: dict, add) -> None:
    e = r.get("encoders")
    if not e:
        return
    add("## 7. Video encoders: speed, size and quality at the same setting\n")
    add(
        f"The {e['resolution']} presenter's first {e['frames']} frames, held in memory, "
        f"encoded by each encoder that opens on this machine at quality {e['crf']} (x264's "
        "CRF, mapped to each encoder's constant-quality mode: app/engine/render/media/"
        "encoders.py); PSNR = mean luma PSNR of the decoded output against those frames.\n"
    )
    rows = [
        [
            x["encoder"],
            f"{x['fps']:.1f}",
            f"{x['cpu_ms_per_frame']:.2f}",
            f"{x['size_mb']:.2f}",
            f"{x['mbit_s']:.2f}",
            f"{x['luma_psnr_db']:.2f}",
            _cores(x.get("others_cores")),
        ]
        for x in e["rows"]
    ]
    add(
        _table(
            ["encoder", "fps", "CPU ms/frame", "size MB", "Mbit/s", "luma PSNR dB"]
            + ["others' cores"],
            rows,
        )
    )
    if e["closed"]:
        add(
            "Listed by this FFmpeg build but cannot open here (so `--encoder auto` takes "
            "libx264): " + "; ".join(f"{k} ({v})" for k, v in e["closed"].items()) + ".\n"
        )


def large_frames_markdown(section: dict) -> str:
    """Section 8 (bench/large_frames.py)."""
    out = ["## 8. Large frames: peak RSS of a 36 MP still and a 4K video\n"]
    out.append(
        f"Draft model, {section['seconds']:g} s of speech, each render in a fresh process "
        "(peak = VmHWM at exit, in GB of 10^9 bytes). The stage queues hold a byte budget of "
        "frames (`frame_budget.py`), not 8 frames whatever their size; a still's long "
        "side is scaled to 4096 px when it is read (`--max-still-side`).\n"
    )
    rows = [
        [
            x["input"],
            x["source"],
            x["rendered"],
            x["frames"],
            x["queue_frames"],
            f"{x['fps']:.1f}",
            f"{x['peak_rss_gb']:.2f}",
            "" if x["target_gb"] is None else f"<= {x['target_gb']}",
            "" if x["met"] is None else _status(x["met"]),
        ]
        for x in section["renders"]
    ]
    header = ["input", "source", "rendered", "frames", "frames per queue", "fps", "peak GB"]
    out.append(_table(header + ["target", ""], rows, "lll" + "r" * 5 + "l"))
    return "\n".join(out) + "\n"


def enhancer_markdown(section: dict) -> str:
    """Section 9 (bench/enhancer.py)."""
    out = ["## 9. Face enhancer: ms per frame at batch 8 on the CPU\n"]
    out.append(
        f"The stage as a render runs it (`render/enhance.py` enhance_faces through the "
        f"FaceEnhancer runner, {section['session']}; onnxruntime {section['onnxruntime']}) "
        f"on {section.get('input', 'frames')} ({section['frame_size']}, a changed 96 px "
        f"mouth pasted first, as after lip sync), batch {section['batch']}, blend "
        f"{section['blend']:g}, {section['frames']} frames timed after a warm-up. Two "
        "stand-ins of the real contract (512x512, `tests/support/standins.py`): an identity "
        "network (the stage's own work: re-cut, scaling, the ONNX Runtime call, blend "
        "back) and a convolutional encoder-decoder of stated GFLOPs (the network's share).\n"
    )
    i, c = section["identity"], section["convnet"]
    rows = [
        _enhancer_row("identity: the stage's own work", i),
        _enhancer_row(
            f"conv encoder-decoder, {section['convnet_gflop_per_frame']:.1f} GFLOP/frame", c
        ),
    ]
    header = ["enhancer stand-in (512x512)", "wall ms/frame", "CPU ms/frame", "others' cores"]
    out.append(_table(header, rows))
    rate = section["network_gflop_per_s"]
    if rate is not None:
        out.append(
            f"Network rate: **{rate:.1f} GFLOP/s** (the encoder-decoder's GFLOP per frame "
            "over its ms/frame beyond the identity's).\n"
        )
    names = ", ".join(f"{k} ({v['crop']} px)" for k, v in section["registry"].items())
    out.append(f"Registry enhancers ({names}): {section['registry_note']}.\n")
    return "\n".join(out) + "\n"


def _enhancer_row(label: str, c: dict) -> list[object]:
    return [
        label,
        f"**{c['wall_ms_per_frame']:.1f}**",
        f"{c['cpu_ms_per_frame']:.1f}",
        _cores(c.get("others_cores")),
    ]
