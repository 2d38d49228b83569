"""``python -m bench [--quick] [--only NAME] [--out BENCHMARKS.md]``: run the benchmarks, write the report.

``python -m bench SUBCOMMAND ...`` runs one of the standalone measures in ``SUBCOMMANDS`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from bench._env import ROOT, isolate

#: Standalone measures: ``python -m bench NAME [args]`` runs ``bench.<module>.main(args)``.
SUBCOMMANDS = {
    "plan-scaling": "bench.plan_scaling",
    "run-scaling": "bench.run_scaling",
    "extraction": "bench.extraction",
    "commitments": "bench.commitments_score",
    "addresses": "bench.addresses_score",
    "matching": "bench.matching_score",
    "extraction-speed": "bench.extraction_speed",
    "temporal": "bench.temporal",
    "document-scaling": "bench.document_scaling",
}

#: BENCHMARKS.md keeps everything from this line on when the main report is re-rendered: the
#: sections of the standalone measures (``python -m bench NAME``), each pasted from its output.
STANDALONE_MARKER = "<!-- standalone measures below: kept when the report is re-rendered -->"

MEASURES = ("overhead", "fanout", "concurrency", "checkpoint", "context", "budget", "startup")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def collect(quick: bool, only: list[str], frameworks: list[str], log: Any) -> dict[str, Any]:
    """Run the chosen measures; a framework that fails is reported and left out, not fatal."""
    from bench import context, measures, profile, report, startup
    from bench.measures import SPECIALISTS, _processes

    r: dict[str, Any] = {
        "quick": quick,
        "notes": [],
        "workload": {"specialists": SPECIALISTS},
        "processes": _processes(quick),
    }
    per_framework = {
        "overhead": measures.overhead,
        "fanout": measures.fanout,
        "concurrency": measures.concurrency,
    }
    for measure, fn in per_framework.items():
        if measure not in only:
            continue
        r[measure] = {}
        for name in frameworks:
            log(f"{measure}: {name}")
            try:
                r[measure][name] = fn(name, quick)
            except Exception:  # a broken peer must not hide the others' figures
                log(traceback.format_exc())
                r["notes"].append(f"- {measure}: {name} failed (see the harness output).")
    if "checkpoint" in only:
        log("checkpoint")
        r["checkpoint"] = measures.checkpointing(quick)
    if "context" in only:
        log("context")
        r["context"] = context.measure()
    if "budget" in only:
        log("budget")
        r["budget"] = startup.budget(quick)
    if "startup" in only:
        log("startup")
        r["startup"] = startup.measure(quick)
    ok = report.verdicts(r)
    if "overhead" in r and not (ok.get("overhead", True) and ok.get("concurrency", True)):
        log("profiling agentorch")
        spots = profile.hot_spots(
            runs=30 if quick else 300, text_out=None if quick else ROOT / "bench" / "profile.txt"
        )
        if spots:
            r["profile"] = spots
            r["notes"] += [
                "- **Hot spots** of agentorch's per-run cost: pyinstrument self time on the zero-latency",
                "  workload (ms per run under the profiler; full tree in `bench/profile.txt`):",
                "",
                "  | kind | function | where | ms/run | share |",
                "  |---|---|---|---:|---:|",
                *[
                    f"  | {s['kind']} | `{s['function']}` | `{s['where']}` | {s['ms_per_run']:.3f} |"
                    f" {s['share_pct']:.1f}% |"
                    for s in spots
                ],
                "",
            ]
    return r


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in and args_in[0] in SUBCOMMANDS:
        import importlib

        module = importlib.import_module(SUBCOMMANDS[args_in[0]])
        return int(module.main(args_in[1:]))
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog=f"standalone measures: {', '.join(SUBCOMMANDS)} (python -m bench NAME --help)",
    )
    parser.add_argument("--quick", action="store_true", help="few iterations (CI smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=MEASURES,
        metavar="NAME",
        help=f"run only this measure (repeatable): {', '.join(MEASURES)}",
    )
    parser.add_argument(
        "--frameworks", help="comma-separated subset (default: every installed one)"
    )
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="the Markdown report")
    parser.add_argument(
        "--chart", default=str(ROOT / "bench" / "results.png"), help="the PNG chart"
    )
    parser.add_argument(
        "--json", default=str(ROOT / "bench" / "results.json"), help="the raw results as JSON"
    )
    parser.add_argument(
        "--render", action="store_true", help="only re-render the report from --json (no runs)"
    )
    args = parser.parse_args(argv)
    isolate()
    from bench import frameworks

    if args.render:
        results = json.loads(Path(args.json).read_text(encoding="utf-8"))
        return _write(results, Path(args.out).resolve(), Path(args.chart).resolve(), None)

    found = frameworks.available()
    chosen = found if not args.frameworks else [f for f in args.frameworks.split(",") if f in found]
    missing = [f for f in frameworks.FRAMEWORKS if f not in found]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if missing:
        log(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
    out, chart_path = Path(args.out).resolve(), Path(args.chart).resolve()
    cwd = os.getcwd()
    load_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # nothing in the caller's cwd may shadow an import, and runs write here
        try:
            results = collect(args.quick, list(args.only or MEASURES), chosen, log)
        finally:
            os.chdir(cwd)
    results["load_avg_start"], results["load_avg_end"] = load_start, list(os.getloadavg())
    results["command"] = "python -m bench " + shlex.join(_portable(args_in))
    results["command"] = results["command"].strip()
    results["machine"] = machine()
    results["versions"] = frameworks.versions(chosen)
    return _write(results, out, chart_path, args.json)


def _portable(argv: list[str]) -> list[str]:
    """The command line with paths inside the repository made relative (no machine paths)."""
    out = []
    for arg in argv:
        path = Path(arg)
        if path.is_absolute() and path.resolve().is_relative_to(ROOT.resolve()):
            arg = str(path.resolve().relative_to(ROOT.resolve()))
        out.append(arg)
    return out


def _write(results: dict[str, Any], out: Path, chart_path: Path, raw: str | None) -> int:
    from bench import report

    chart_ref = None
    # Re-rendering (no new results) without matplotlib keeps the chart already drawn for them.
    if report.chart(results, chart_path) or (raw is None and chart_path.is_file()):
        chart_ref = os.path.relpath(chart_path, out.parent)
    text = report.markdown(results, chart_ref)
    if out.exists():  # the standalone measures' sections are kept below the marker
        old = out.read_text(encoding="utf-8")
        if STANDALONE_MARKER in old:
            text = text.rstrip("\n") + "\n\n" + old[old.index(STANDALONE_MARKER) :]
    out.write_text(text, encoding="utf-8")
    if raw:
        Path(raw).write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"wrote {out}" + (f" and {chart_path}" if chart_ref else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
