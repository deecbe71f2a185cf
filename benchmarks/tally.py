"""Benchmark the tally against pabutools 1.2.3 on the shared Pabulib files (run on demand).

    python benchmarks/tally.py [--files NAME ...] [--rules RULE ...] [--timeout S] [--memory-mb MB]

Every measurement runs in its own subprocess, so peak memory (max RSS) is per run. pabutools
runs with a memory limit (RLIMIT_AS) and a time limit; what it cannot finish is reported as such.
Times are for the rule alone (the file is already parsed); "read" is our parse time.
pabutools is GPL-3.0 and only ever imported here and in tests, never by pb_vote.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "pabulib"


def worker(engine: str, path: str, rule: str, stopping: str, memory_mb: int) -> None:
    """Measure one (engine, file, rule) in this process and print a JSON line."""
    import resource

    sys.path.insert(0, str(REPO_ROOT))
    if engine == "pabutools" and memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from pb_vote.tally import read_pabulib, tally

    started = time.perf_counter()
    election = read_pabulib(path)
    read_seconds = time.perf_counter() - started
    threshold = None
    if rule == "greedy-threshold":
        threshold = int(election.meta.get("min_project_score_threshold", "0"))
    started = time.perf_counter()
    if engine == "ours":
        result = tally(election, rule, tie_break="lexico", threshold=threshold,
                       add_one_stopping=stopping)
        selected = list(result.selected)
    else:
        from tests.tally.oracle import pabutools_selection

        selected = pabutools_selection(election, rule, "lexico", threshold=threshold)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "read": read_seconds, "peak_mb": peak_mb,
                      "selected": selected}))


def measure(engine: str, path: Path, rule: str, stopping: str, timeout: float,
            memory_mb: int) -> dict:
    """Run one measurement in a subprocess; returns its figures or the reason it failed."""
    command = [sys.executable, __file__, "--worker", engine, str(path), rule, stopping,
               str(memory_mb)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"failed": f"not finished in {timeout:.0f} s"}
    if done.returncode != 0:
        memory = "MemoryError" in done.stderr or "Cannot allocate" in done.stderr
        why = f"over {memory_mb} MB" if memory else done.stderr.strip().splitlines()[-1:]
        return {"failed": why if isinstance(why, str) else " ".join(why)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def default_rules(path: Path) -> list[str]:
    """greedy and mes for every file, plus the file's own rule when it is another of ours."""
    rules = ["greedy", "mes"]
    meta_rule = ""
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.startswith("rule;"):
                meta_rule = line.strip().split(";", 1)[1]
                break
            if line.strip() == "PROJECTS":
                break
    mapped = {"greedy-no-skip": "greedy-no-skip", "greedy-threshold": "greedy-threshold",
              "equalshares/add1": "mes-add1", "equalshares/add1-comparison": "mes-add1"}
    if meta_rule in mapped and mapped[meta_rule] not in rules:
        rules.append(mapped[meta_rule])
    return rules


def main() -> None:
    """Measure and print a Markdown table of our figures beside pabutools'."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get(
        "PB_VOTE_PABULIB_DIR", DEFAULT_DIR)))
    parser.add_argument("--files", nargs="*", help="file names (default: every .pb file)")
    parser.add_argument("--rules", nargs="*", help="rules (default: greedy, mes, the META rule)")
    parser.add_argument("--add-one", default="pabutools", choices=["pabutools", "pabulib"])
    parser.add_argument("--timeout", type=float, default=600, help="seconds per pabutools run")
    parser.add_argument("--memory-mb", type=int, default=4096, help="pabutools memory limit")
    parser.add_argument("--our-timeout", type=float, default=300, help="seconds per run of ours")
    parser.add_argument("--skip-pabutools", action="store_true")
    args = parser.parse_args()
    files = [args.dir / name for name in args.files] if args.files else sorted(
        args.dir.glob("*.pb"))
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; pabutools limits: "
          f"{args.timeout:.0f} s, {args.memory_mb} MB. Times exclude reading the file.\n")
    print("| file | rule | ours (s) | ours peak MB | pabutools (s) | pabutools peak MB "
          "| speed-up | memory ratio | same outcome |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for path in files:
        for rule in args.rules or default_rules(path):
            ours = measure("ours", path, rule, args.add_one, args.our_timeout, 0)
            if "failed" in ours:
                print(f"| {path.stem} | {rule} | {ours['failed']} | | (not run) | | | | |")
                continue
            cells = [path.stem, rule, f"{ours['seconds']:.3f}", f"{ours['peak_mb']:.0f}"]
            if args.skip_pabutools or (rule == "mes-add1" and args.add_one == "pabulib"):
                cells += ["", "", "", "", ""]
            else:
                theirs = measure("pabutools", path, rule, args.add_one, args.timeout,
                                 args.memory_mb)
                if "failed" in theirs:
                    cells += [theirs["failed"], "", "", "", "not compared"]
                else:
                    cells += [
                        f"{theirs['seconds']:.2f}",
                        f"{theirs['peak_mb']:.0f}",
                        f"{theirs['seconds'] / max(ours['seconds'], 1e-6):.0f}x",
                        f"{theirs['peak_mb'] / ours['peak_mb']:.1f}x",
                        "yes" if theirs["selected"] == ours["selected"] else "**NO**",
                    ]
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        main()
