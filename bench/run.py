"""make bench: run every benchmark in bench/ once, side by side, and write bench/results.md.

Each bench_*.py prints a markdown section, and TARGET lines (bench/common.py: target) that this gathers into
one table of targets at the top. This adds the date and the machine facts. Figures are reported, never
asserted: they depend on the machine.
"""
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine():
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    db = "PostgreSQL (TRACKER_BENCH_DATABASE_URL)" if os.environ.get("TRACKER_BENCH_DATABASE_URL") else "SQLite"
    return (f"{platform.node()}: {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, database {db}")


def database_kind():
    return "PostgreSQL" if os.environ.get("TRACKER_BENCH_DATABASE_URL") else "SQLite"


def merge(existing: str, kind: str, part: str) -> str:
    """results.md holds one part per database between markers; this run replaces its own database's part."""
    begin, end = f"<!-- begin {kind} -->", f"<!-- end {kind} -->"
    parts = {}
    for other in ("SQLite", "PostgreSQL"):
        b, e = f"<!-- begin {other} -->", f"<!-- end {other} -->"
        if b in existing and e in existing:
            parts[other] = existing[existing.index(b):existing.index(e) + len(e)]
    parts[kind] = f"{begin}\n{part}\n{end}"
    profiles = (HERE / "profiling.md").read_text().strip() if (HERE / "profiling.md").exists() else ""
    return (HEADER + "\n\n" + "\n\n".join(parts[k] for k in ("SQLite", "PostgreSQL") if k in parts)
            + ("\n\n" + profiles if profiles else "") + "\n")


HEADER = """# Benchmark results

Written by `make bench` (`bench/run.py`): every `bench/bench_*.py` run once, one after another, on the same
machine. A run replaces the part for its database: SQLite by default, PostgreSQL with
TRACKER_BENCH_DATABASE_URL. Figures are reported, never asserted; each part starts with its targets."""


def main():
    only = sys.argv[1:]
    sections, failed, targets = [], [], []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.name}", flush=True)
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        lines = run.stdout.strip().splitlines()
        targets += [line.split("\t")[1:] for line in lines if line.startswith("TARGET\t")]
        if run.returncode:
            failed.append(script.name)
            targets.append([script.name, "runs", "failed", "**no**"])
            sections.append(f"## {script.name}: FAILED\n\n```\n{run.stderr[-3000:]}\n```")
        else:
            sections.append("\n".join(line for line in lines if not line.startswith("TARGET\t")))
        print(sections[-1], flush=True)
    kind = database_kind()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(["| measure | target | figure | met |", "|---|---|---|---|"]
                      + [f"| {' | '.join(t)} |" for t in targets])
    ran = "every benchmark" if not only else "only " + ", ".join(only)
    part = (f"## {kind}\n\n{stamp} on {machine()}; {ran}.\n\n### Targets ({kind})\n\n{table}\n\n"
            + "\n\n".join(sections).replace("\n## ", "\n### ").replace("## ", "### ", 1))
    results = HERE / "results.md"
    results.write_text(merge(results.read_text() if results.exists() else "", kind, part))
    print(f"\n{table}\n\nwritten to {results} ({kind} part)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
