"""make bench: run every benchmark in bench/ once, side by side, and write bench/results.md.

Each bench_*.py prints a markdown section; this adds the date and the machine facts. Figures are
reported, never asserted: they depend on the machine.
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


def main():
    only = sys.argv[1:]
    sections, failed = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.name}", flush=True)
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        if run.returncode:
            failed.append(script.name)
            sections.append(f"## {script.name}: FAILED\n\n```\n{run.stderr[-3000:]}\n```")
        else:
            sections.append(run.stdout.strip())
        print(sections[-1], flush=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"# Benchmark results\n\n{stamp} on {machine()}.\n\n" + "\n\n".join(sections) + "\n"
    (HERE / "results.md").write_text(text)
    print(f"\nwritten to {HERE / 'results.md'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
