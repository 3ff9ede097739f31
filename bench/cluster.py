"""Benchmark: health rounds at 1,000 and 10,000 sources, side by side with the last round's figure.

Runs bench/health.py twice, each in its own scratch database and broker:

- 1,000 sources (500 silent with connection_timeout 2, 500 on a real PostgreSQL), one worker as
  `make run` starts it (SQLite app database, SQLite broker, default settings); target <= 10 s;
- 10,000 sources (the same mix), two workers as `make run` starts them (the first with beat) and the
  app's tables on PostgreSQL, as several workers need; target <= 60 s.

Each prints the round time (first test started -> last finished), checks/s, and how many sources
were missed or checked twice (both must be 0).

Usage:  .venv/bin/python bench/cluster.py [--only 1000|10000]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PREVIOUS_ROUND_SECONDS = 13.3  # 1,000 sources at HEALTH_CHECK_CONCURRENCY 50, recorded one by one
SCENARIOS = {
    1000: (["--sources", "1000"], 10),
    10000: (["--sources", "10000", "--workers", "2", "--app-db", "postgres"], 60),
}


def run(arguments: list[str]) -> dict:
    completed = subprocess.run([sys.executable, str(BASE_DIR / "bench/health.py"), *arguments],
                               cwd=BASE_DIR, capture_output=True, text=True, timeout=1800)
    sys.stderr.write(completed.stdout)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode or not lines:
        raise SystemExit(f"bench/health.py {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", type=int, choices=sorted(SCENARIOS))
    args = parser.parse_args()
    rows = []
    for count, (arguments, target) in SCENARIOS.items():
        if args.only in (None, count):
            rows.append((run(arguments), target))
    print(f"{'sources':>8} {'workers':>8} {'round s':>8} {'target s':>9} {'checks/s':>9} {'missed':>7} "
          f"{'doubled':>8}   last round (1,000 sources): {PREVIOUS_ROUND_SECONDS} s")
    for result, target in rows:
        workers = 2 if result["sources"] > 1000 else 1
        print(f"{result['sources']:>8} {workers:>8} {result['round_s']:>8} {target:>9} {result['checks_per_s']:>9} "
              f"{result['missed']:>7} {result['doubled']:>8}")


if __name__ == "__main__":
    main()
