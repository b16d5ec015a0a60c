"""make bench: run every benchmark in bench/ once, side by side, and write bench/results.md.

Each bench_*.py prints a markdown section, and TARGET lines (bench/common.py: target) that this gathers into
one table of targets at the top. This adds the date and the machine facts. Figures are reported, never
asserted: they depend on the machine.
"""

import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine():
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    db = (
        "PostgreSQL (TRACKER_BENCH_DATABASE_URL)"
        if os.environ.get("TRACKER_BENCH_DATABASE_URL")
        else "SQLite"
    )
    return (
        f"{platform.node()}: {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, database {db}"
    )


def database_kind():
    return "PostgreSQL" if os.environ.get("TRACKER_BENCH_DATABASE_URL") else "SQLite"


BENCH_BLOCK = re.compile(r"<!-- bench (\S+) -->\n(.*?)\n<!-- /bench \1 -->", re.S)
TARGETS_NOTE = re.compile(r"<!-- targets\n(.*?)\n?-->", re.S)


def _parts(existing: str) -> dict:
    parts = {}
    for kind in ("SQLite", "PostgreSQL"):
        b, e = f"<!-- begin {kind} -->", f"<!-- end {kind} -->"
        if b in existing and e in existing:
            parts[kind] = existing[existing.index(b) + len(b) : existing.index(e)]
    return parts


def _benches(part: str) -> dict:
    """{bench name: (section text, [target rows])} of one database's part."""
    out = {}
    for name, block in BENCH_BLOCK.findall(part):
        note = TARGETS_NOTE.search(block)
        rows = [line.split("\t") for line in note.group(1).splitlines() if line] if note else []
        out[name] = (TARGETS_NOTE.sub("", block).strip(), rows)
    return out


def merge(existing: str, kind: str, ran: dict, machine_facts: str) -> str:
    """results.md holds one part per database, and in it one block per benchmark; this run replaces the blocks
    of the benchmarks it ran, keeps the others, and makes the part's targets table again from all of them."""
    parts = _parts(existing)
    benches = _benches(parts.get(kind, ""))
    benches.update(ran)
    targets = [row for name in sorted(benches) for row in benches[name][1]]
    table = "\n".join(
        ["| measure | target | figure | met |", "|---|---|---|---|"]
        + [f"| {' | '.join(t)} |" for t in targets]
    )
    blocks = []
    for name in sorted(benches):
        text, rows = benches[name]
        note = "<!-- targets\n" + "\n".join("\t".join(r) for r in rows) + "\n-->"
        blocks.append(f"<!-- bench {name} -->\n{text}\n{note}\n<!-- /bench {name} -->")
    parts[kind] = (
        f"\n## {kind}\n\nOn {machine_facts}. Each section says when it was measured.\n\n"
        f"### Targets ({kind})\n\n{table}\n\n" + "\n\n".join(blocks) + "\n"
    )
    profiles = (HERE / "profiling.md").read_text().strip() if (HERE / "profiling.md").exists() else ""
    body = "\n\n".join(
        f"<!-- begin {k} -->{parts[k]}<!-- end {k} -->" for k in ("SQLite", "PostgreSQL") if k in parts
    )
    return HEADER + "\n\n" + body + ("\n\n" + profiles if profiles else "") + "\n"


HEADER = """# Benchmark results

Written by `make bench` (`bench/run.py`): every `bench/bench_*.py`, one after another, on the same machine.
SQLite by default, PostgreSQL with TRACKER_BENCH_DATABASE_URL; a run replaces the sections of the benchmarks
it ran (`BENCH=bench_pages make bench` runs one) and keeps the others. Figures are reported, never asserted;
each database's part starts with its targets."""


def main():
    only = sys.argv[1:]
    ran, failed = {}, []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.name}", flush=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        lines = run.stdout.strip().splitlines()
        targets = [line.split("\t")[1:] for line in lines if line.startswith("TARGET\t")]
        if run.returncode:
            failed.append(script.name)
            targets.append([script.name, "runs", "failed", "**no**"])
            text = f"## {script.name}: FAILED\n\n```\n{run.stderr[-3000:]}\n```"
        else:
            text = "\n".join(line for line in lines if not line.startswith("TARGET\t"))
        text = text.replace("\n## ", "\n### ")
        text = ("### " + text[3:] if text.startswith("## ") else text) + f"\n\nMeasured {stamp}."
        ran[script.stem] = (text, targets)
        print(text, flush=True)
    kind = database_kind()
    results = HERE / "results.md"
    merged = merge(results.read_text() if results.exists() else "", kind, ran, machine())
    results.write_text(merged)
    table = merged.split(f"### Targets ({kind})\n\n", 1)[1].split("\n\n", 1)[0]
    print(f"\n{table}\n\nwritten to {results} ({kind} part)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
