"""bench/results/*.json → summary.md (the headline ratios) and plot.png.

The plot has three panels: latency per task (vision: ours / raw / mediapipe; learn and kit
figures when vision has not run), and for the live-view benchmark RSS growth per client and
`/healthz` p95 against the number of clients, one line per server design.

    python -m bench.report
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS


def _load(folder: Path) -> dict[str, Any]:
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text())
        except ValueError:
            continue
    return out


def _fmt(value: Any) -> str:
    return "–" if value is None else str(value)


def summary_lines(results: dict[str, Any]) -> list[str]:
    lines = ["# Benchmark summary", "",
             "Every figure is from one run on this machine; quote ratios, not absolute times "
             "(see bench/README.md).", ""]
    if "coldstart" in results:
        c = results["coldstart"]
        lines += ["## Cold start", "",
                  "| | wall s (median) | CPU s (median) |", "|---|---|---|",
                  f"| labkit serve → first 200 | {c['labkit_serve']['wall_s_median']} | "
                  f"{c['labkit_serve']['cpu_s_median']} |",
                  f"| baseline Flask+waitress+cv2 | "
                  f"{c['baseline_flask_waitress_cv2']['wall_s_median']} | "
                  f"{c['baseline_flask_waitress_cv2']['cpu_s_median']} |",
                  f"| ratio (pairwise median) | {c['ratio_wall_median']} | "
                  f"{c['ratio_cpu_median']} |"]
        cached = c.get("bytecode_cached")
        if cached:
            lines += [f"| with a bytecode cache: labkit / baseline | "
                      f"{cached['labkit_serve']['wall_s_median']} / "
                      f"{cached['baseline_flask_waitress_cv2']['wall_s_median']} | "
                      f"{cached['labkit_serve']['cpu_s_median']} / "
                      f"{cached['baseline_flask_waitress_cv2']['cpu_s_median']} |",
                      f"| with a bytecode cache: ratio | {cached['ratio_wall_median']} | "
                      f"{cached['ratio_cpu_median']} |"]
        lines += ["",
                  "Imports (wall s / CPU s): " + ", ".join(
                      f"`{k}` {v['wall_s']} / {v['cpu_s']}" for k, v in c["imports"].items()),
                  "", f"Heavy modules loaded by start-up + first page: "
                  f"{c['heavy_modules_loaded_by_first_page'] or 'none'}", ""]
    if "stream" in results:
        lines += ["## Live views (MJPEG + SSE)", "",
                  "| server | clients | /healthz p95 ms | API p95 ms | ×idle p95 | probe failures "
                  "| RSS KB/client | MJPEG fps/viewer | stalled viewer stale frames |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for row in results["stream"]["summary"]:
            lines.append(
                f"| {row['server']} | {row['clients']} | {_fmt(row['healthz_p95_ms'])} | "
                f"{_fmt(row['api_p95_ms'])} | {_fmt(row['healthz_p95_ratio_to_idle'])} | "
                f"{row['probe_failures']} | {_fmt(row['rss_growth_kb_per_client'])} | "
                f"{row['mjpeg_fps_per_viewer']} | {_fmt(row['slow_stale_frames_max'])} |")
        lines.append("")
    if "learn" in results:
        p = results["learn"].get("press_to_live", {})
        lines += ["## Teachable model", "",
                  f"- {p.get('samples')} samples; press Train → live prediction "
                  f"{p.get('press_to_live_prediction_s')} s vs {p.get('baseline_in_process_no_cache_s')}"
                  f" s for the in-process path without precomputed features (ratio "
                  f"{p.get('ratio_vs_baseline')}); features precomputed while saving: "
                  f"{p.get('features_cached')}"]
        int8 = results["learn"].get("int8")
        if int8:
            lines.append(f"- int8 export {int8['quantize_s']} s, latency ×{int8['latency_ratio']} "
                         f"of float, accuracy {int8['int8_accuracy']} vs {int8['float_accuracy']}")
        lines.append("")
    if "kit" in results:
        k = results["kit"]
        lines += ["## Whole kit (lab + 10 MJPEG + 20 SSE + 20 API pollers)", "",
                  f"- capture {k['capture_fps']} fps, inference {k['inference_fps']} fps, "
                  f"MJPEG {k['mjpeg_fps_per_viewer']} fps/viewer",
                  f"- frame → GPIO p50/p95 {k['frame_to_gpio_ms']['p50']}/"
                  f"{k['frame_to_gpio_ms']['p95']} ms (n={k['frame_to_gpio_ms']['n']}); "
                  f"API p50/p95 {k['api_ms']['p50']}/{k['api_ms']['p95']} ms",
                  f"- CPU {k['cpu_pct_median']} % (median), RSS {k['rss_mb']['first_third']} → "
                  f"{k['rss_mb']['last_third']} MB (×{k['rss_mb']['growth_ratio']}, goal ≤ "
                  f"{k['rss_mb']['goal_growth_ratio']}) over {k['seconds']} s", ""]
    if "memory" in results:
        m = results["memory"]
        lines += ["## Memory (kit process vs a bare process with the same libraries and models)",
                  "", f"- face/hands/pose pages open: {m['kit']['pages_rss_mb']} MB vs "
                  f"{m['floor']['pages_rss_mb']} MB (×{m['pages_ratio']}, goal ≤ "
                  f"{m['goal_ratio']})", f"- after training {m['samples']} samples: "
                  f"{m['kit']['after_training_rss_mb']} MB vs "
                  f"{m['floor']['after_training_rss_mb']} MB (×{m['after_training_ratio']})", ""]
    if "fleet" in results:
        lines += ["## Room of kits (push a signed pack, collect portfolios)", "",
                  "| kits | pack MB | push s | cp s | ×cp | collect s (runs) | ×copy |",
                  "|---|---|---|---|---|---|---|"]
        for row in results["fleet"]["rows"]:
            lines.append(f"| {row['kits']} | {row['pack_mb']} | {row['push_s']} | "
                         f"{row['copy_baseline_s']} | {_fmt(row['ratio_push_vs_copy'])} | "
                         f"{row['collect_s']} ({row['collect_runs']}) | "
                         f"{_fmt(row['ratio_collect_vs_copy'])} |")
        lines.append("")
    if "vision" in results:
        lines += ["## Vision", "", "| task | ours ms | raw ms | ×raw | mediapipe ms | ×mediapipe FPS |",
                  "|---|---|---|---|---|---|"]
        for task, e in results["vision"]["tasks"].items():
            lines.append(f"| {task} | {e['ours_ms']} | {e['raw_ms']} | {e['ratio_vs_raw']} | "
                         f"{_fmt(e.get('mediapipe_ms'))} | {_fmt(e.get('fps_vs_mediapipe'))} |")
        lines.append("")
    return lines


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    if "vision" in results:
        tasks = list(results["vision"]["tasks"])
        width = 0.27
        for i, (key, label) in enumerate((("ours_ms", "labkit"), ("raw_ms", "raw invoke+resize"),
                                          ("mediapipe_ms", "mediapipe"))):
            vals = [results["vision"]["tasks"][t].get(key) or 0 for t in tasks]
            ax.bar([x + (i - 1) * width for x in range(len(tasks))], vals, width, label=label)
        ax.set_xticks(range(len(tasks)), tasks, rotation=30, ha="right")
    else:
        bars = {}
        if "kit" in results and results["kit"]["frame_to_gpio_ms"]["p50"] is not None:
            bars["frame→GPIO p50"] = results["kit"]["frame_to_gpio_ms"]["p50"]
            bars["API p50 (kit)"] = results["kit"]["api_ms"]["p50"] or 0
        if "learn" in results:
            p = results["learn"].get("press_to_live", {})
            bars["Train→live"] = 1000 * (p.get("press_to_live_prediction_s") or 0)
        if "coldstart" in results:
            bars["cold start"] = 1000 * results["coldstart"]["labkit_serve"]["wall_s_median"]
        ax.bar(list(bars), list(bars.values()))
        ax.tick_params(axis="x", rotation=30)
    ax.set_ylabel("ms")
    ax.set_title("latency per task")
    ax.legend() if "vision" in results else None
    stream = results.get("stream")
    for ax, key, title in ((axes[1], "rss_growth_kb_per_client", "RSS growth per client (KB)"),
                           (axes[2], "healthz_p95_ms", "/healthz p95 under load (ms)")):
        if stream:
            servers: dict[str, list[tuple[int, float]]] = {}
            for row in stream["summary"]:
                if row.get(key) is not None:
                    servers.setdefault(row["server"], []).append((row["clients"], row[key]))
            for name, pts in servers.items():
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
            ax.legend()
        ax.set_xlabel("concurrent live-view clients")
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(folder: Path = RESULTS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    results = _load(folder)
    md = folder / "summary.md"
    md.write_text("\n".join(summary_lines(results)) + "\n")
    png = folder / "plot.png"
    plot(results, png)
    print(f"wrote {md} and {png}")
    return md, png


if __name__ == "__main__":
    write_report()
