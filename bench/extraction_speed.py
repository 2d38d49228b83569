"""``python -m bench extraction-speed``: reading and shredding time and peak memory by document size.

Reads and extracts (``read_blocks`` + ``find_requirements``, what the ``find_requirements`` tool
does) the bundled example RFP at 1x, 10x and 100x its size (its sections repeated with their
numbers shifted, so ids stay distinct), and a generated 5 MB statement of work with 4-digit
clause numbering and lines wrapped as in a text export. Each size runs in a fresh process; wall
time, CPU time and the process's peak resident memory are reported, with the load average at the
start. Targets (issue 13): the 5 MB document under 30 s on one core and under 500 MB; time per MB
about flat as the size grows (linear).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "rfp" / "rfp.md"
TARGET_SECONDS = 30.0
TARGET_MB = 500.0


def scaled_example(times: int) -> str:
    """The example RFP's numbered sections repeated ``times`` times, section numbers shifted."""
    text = EXAMPLE.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n## 1.")
    body = sep.lstrip("\n") + body
    parts = [head]
    for copy in range(times):
        shift = copy * 10

        def renumber(match: re.Match[str], shift: int = shift) -> str:
            return f"{match.group(1)}{int(match.group(2)) + shift}."

        parts.append(re.sub(r"(?m)^(## |)(\d+)\.", renumber, body))
    return "\n".join(parts)


_CLAUSE = (
    "The Contractor shall provide all labor, materials and supervision necessary to "
    "maintain the equipment listed in the schedule, and shall report each completed "
    "service call to the Contracting Officer's Representative within two business days. "
    "The Government will provide access to the sites during normal business hours."
)


def four_digit_sow(size: int = 5_000_000) -> str:
    """A plain-text SOW of about ``size`` bytes: 4-digit clause numbers, 72-column wrapped lines."""
    words = _CLAUSE.split()
    out: list[str] = []
    total = 0
    section = 1000

    def emit(line: str) -> None:
        nonlocal total
        out.append(line)
        total += len(line) + 1

    while total < size:
        section += 1
        emit(f"\n{section}.0 SERVICE AREA {section}\n")
        for clause in range(1, 21):
            line: list[str] = [f"{section}.{clause:04d}"]
            for word in words:
                if sum(len(w) + 1 for w in line) + len(word) > 72:
                    emit(" ".join(line))
                    line = []
                line.append(word)
            emit(" ".join(line))
            emit("")
        emit("\fPage 1 of 1")
    return "\n".join(out)


def _one(path: str) -> dict[str, Any]:
    import resource
    import time

    from agentorch.documents import find_requirements, read_blocks

    wall, cpu = time.perf_counter(), time.process_time()
    blocks = read_blocks(path)
    findings = find_requirements(blocks)
    return {
        "bytes": Path(path).stat().st_size,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blocks": len(blocks),
        "requirements": len(findings.requirements),
        "excluded": len(findings.excluded),
    }


def measure() -> dict[str, Any]:
    """One fresh process per document; the load average at the start."""
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        documents = [(f"example x{n}", scaled_example(n), "md") for n in (1, 10, 100)]
        documents.append(("5 MB SOW, 4-digit numbering", four_digit_sow(), "txt"))
        for name, text, suffix in documents:
            path = Path(tmp) / f"doc.{suffix}"
            path.write_text(text, encoding="utf-8")
            out = subprocess.run(
                [sys.executable, "-m", "bench.extraction_speed", "--one", str(path)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            rows.append({"document": name, **json.loads(out.stdout)})
    last = rows[-1]
    met = last["wall_s"] < TARGET_SECONDS and last["peak_mb"] < TARGET_MB
    return {"load_avg": load, "rows": rows, "met": met}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench extraction-speed", description=__doc__)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one)))
        return 0
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    one, five, fifteen = result["load_avg"]
    print(f"load average at start: {one:.2f} {five:.2f} {fifteen:.2f}")
    print(
        "| document | size (MB) | blocks | requirements | wall (s) | CPU (s) | s per MB | peak RSS (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in result["rows"]:
        mb = row["bytes"] / 1e6
        print(
            f"| {row['document']} | {mb:.2f} | {row['blocks']:,} | {row['requirements']:,} | "
            f"{row['wall_s']:.2f} | {row['cpu_s']:.2f} | {row['cpu_s'] / mb:.2f} | "
            f"{row['peak_mb']:.0f} |"
        )
    verdict = "met" if result["met"] else "missed"
    print(f"\n5 MB document: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
