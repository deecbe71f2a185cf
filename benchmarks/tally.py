"""Benchmark the tally against pabutools 1.2.3 on a folder of Pabulib files (run on demand).

    python benchmarks/tally.py [--dir DIR] [--files NAME ...] [--rules RULE ...] [--timeout S]
        [--memory-mb MB] [--whole-process] [--slowest N] [--skip-pabutools]

Every ``.pb`` file under ``--dir`` is measured, in its subfolders too (``hard/``). Every
measurement runs in its own subprocess, so peak memory (max RSS) is per run. pabutools runs
with a memory limit (RLIMIT_AS) and a time limit; what it cannot finish is reported as such.

By default our times are for the rule alone (the file already parsed). ``--whole-process`` runs
the real console script instead, ``pb-vote tally FILE --rule RULE --tie-break lexico --add-one
STOPPING --json`` (setup.cfg's entry point, ``pb_vote.tally.cli:main``), and measures that
process from start to exit: wall time, and its peak RSS from ``os.wait4``. pabutools' figures
stay its rule time. Outcomes are compared either way (lexicographic ties on both sides; for a
file with decimal amounts pabutools counts in currency units, so its add-one step is one whole
currency unit as when it reads the file itself). At the end the ``--slowest`` runs of ours are
listed, slowest first.

pabutools is GPL-3.0 and only ever imported here and in tests, never by pb_vote.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
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
    threshold = file_threshold(election.meta) if rule == "greedy-threshold" else None
    started = time.perf_counter()
    if engine == "ours":
        result = tally(election, rule, tie_break="lexico", threshold=threshold,
                       add_one_stopping=stopping)
        selected = list(result.selected)
    else:
        from tests.tally import oracle

        if election.unit_scale != 1:
            oracle.to_pabutools = _in_currency_units(oracle.to_pabutools, election.unit_scale)
        selected = oracle.pabutools_selection(election, rule, "lexico", threshold=threshold)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "read": read_seconds, "peak_mb": peak_mb,
                      "selected": selected}))


def _in_currency_units(to_pabutools, unit_scale: int):
    """``to_pabutools`` with costs and budget divided by ``unit_scale``.

    Our election counts a decimal file in scaled units (grosze); the oracle hands pabutools
    those numbers, and its add-one step of 1 would then be one grosz. pabutools reading the
    file itself steps by one złoty; greedy and a single equal-shares run do not depend on the
    unit. The ballots hold the instance's very Project objects, so one change serves both."""
    from gmpy2 import mpq

    def converted(election):
        instance, profile, approval = to_pabutools(election)
        for project in instance:
            project.cost = mpq(project.cost) / unit_scale
        instance.budget_limit = mpq(election.budget, unit_scale)
        return instance, profile, approval

    return converted


def file_threshold(meta: dict) -> int:
    """The support threshold greedy-threshold uses for a file (its META, else 0)."""
    return int(meta.get("min_project_score_threshold", "0"))


def measure(engine: str, path: Path, rule: str, stopping: str, timeout: float,
            memory_mb: int) -> dict:
    """Run one measurement in a subprocess; returns its figures or the reason it failed."""
    command = [sys.executable, __file__, "--worker", engine, str(path), rule, stopping,
               str(memory_mb)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"failed": f"not finished in {timeout:g} s"}
    if done.returncode != 0:
        return {"failed": _why(done.stderr, memory_mb)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _why(stderr: str, memory_mb: int) -> str:
    if "MemoryError" in stderr or "Cannot allocate" in stderr:
        return f"over {memory_mb} MB"
    return " ".join(stderr.strip().splitlines()[-1:]) or "failed"


def console_script() -> list[str]:
    """How to start ``pb-vote`` (setup.cfg: ``pb-vote = pb_vote.tally.cli:main``)."""
    for folder in (Path(sys.executable).parent, REPO_ROOT / ".venv" / "bin"):
        if (folder / "pb-vote").is_file():
            return [str(folder / "pb-vote")]
    return [sys.executable, "-m", "pb_vote.tally.cli"]


def whole_command(cli: list[str], path: Path, rule: str, stopping: str) -> list[str]:
    """The CLI command that counts ``path`` as the in-process worker does."""
    command = [*cli, "tally", str(path), "--rule", rule, "--tie-break", "lexico",
               "--add-one", stopping, "--json"]
    if rule == "greedy-threshold":
        threshold = meta_value(path, "min_project_score_threshold") or "0"
        command += ["--threshold", str(int(threshold))]  # as file_threshold does
    return command


def meta_value(path: Path, key: str) -> str:
    """One META value of a .pb file ("" when absent), read without parsing the file."""
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip().upper() == "PROJECTS":
                break
            if line.startswith(f"{key};"):
                return line.strip().split(";", 1)[1]
    return ""


def measure_whole(command: list[str], timeout: float) -> dict:
    """Run the CLI as a child process: wall time and peak RSS (``wait4``) of that process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO_ROOT)
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            process.kill()

        killer = threading.Timer(timeout, stop)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if timed_out.is_set():
            return {"failed": f"not finished in {timeout:g} s"}
        if process.returncode != 0:
            err.seek(0)
            return {"failed": _why(err.read().decode("utf-8", "replace"), 0)}
        out.seek(0)
        data = json.loads(out.read())
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "selected": data["selected"]}


def _ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def default_rules(path: Path) -> list[str]:
    """greedy and mes for every file, plus the file's own rule when it is another of ours."""
    rules = ["greedy", "mes"]
    meta_rule = meta_value(path, "rule")
    mapped = {"greedy-no-skip": "greedy-no-skip", "greedy-threshold": "greedy-threshold",
              "equalshares/add1": "mes-add1", "equalshares/add1-comparison": "mes-add1"}
    if meta_rule in mapped and mapped[meta_rule] not in rules:
        rules.append(mapped[meta_rule])
    return rules


def find_files(folder: Path, names: list[str] | None) -> list[Path]:
    """Every .pb file under ``folder`` (subfolders too), or the named ones: a path relative to
    ``folder`` (``hard/X.pb``) or a bare file name found anywhere under it."""
    every = sorted(folder.rglob("*.pb"))
    if not names:
        return every
    found = []
    for name in names:
        if (folder / name).is_file():
            found.append(folder / name)
            continue
        matches = [path for path in every if path.name == name]
        if not matches:
            raise SystemExit(f"no file {name} under {folder}")
        found += matches
    return found


def main() -> None:
    """Measure and print a Markdown table of our figures beside pabutools', then the slowest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get(
        "PB_VOTE_PABULIB_DIR", DEFAULT_DIR)), help="folder of .pb files, searched recursively")
    parser.add_argument("--files", nargs="*", help="file names (default: every .pb file)")
    parser.add_argument("--rules", nargs="*", help="rules (default: greedy, mes, the META rule)")
    parser.add_argument("--add-one", default="pabutools", choices=["pabutools", "pabulib"])
    parser.add_argument("--timeout", type=float, default=600, help="seconds per pabutools run")
    parser.add_argument("--memory-mb", type=int, default=4096, help="pabutools memory limit")
    parser.add_argument("--our-timeout", type=float, default=300, help="seconds per run of ours")
    parser.add_argument("--skip-pabutools", action="store_true")
    parser.add_argument("--whole-process", action="store_true",
                        help="time the pb-vote console script as a whole process")
    parser.add_argument("--slowest", type=int, default=10, help="how many slowest runs to list")
    args = parser.parse_args()
    files = find_files(args.dir, args.files)
    cli = console_script()
    ours_measure = ("whole process: " + " ".join([*cli, "tally", "FILE", "--rule", "RULE",
                                                  "--tie-break", "lexico", "--add-one",
                                                  args.add_one, "--json"])
                    if args.whole_process else "rule time, the file already read")
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {len(files)} files "
          f"under {args.dir}; ours: {ours_measure}; pabutools: rule time, limits "
          f"{args.timeout:.0f} s, {args.memory_mb} MB.\n")
    print("| file | rule | ours (s) | ours peak MB | pabutools (s) | pabutools peak MB "
          "| speed-up | memory ratio | same outcome |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    runs: list[tuple[float, str, str, str]] = []  # seconds, file, rule, what to show
    for path in files:
        name = path.relative_to(args.dir).with_suffix("").as_posix()
        for rule in args.rules or default_rules(path):
            if args.whole_process:
                ours = measure_whole(whole_command(cli, path, rule, args.add_one),
                                     args.our_timeout)
            else:
                ours = measure("ours", path, rule, args.add_one, args.our_timeout, 0)
            if "failed" in ours:
                runs.append((math.inf, name, rule, ours["failed"]))
                print(f"| {name} | {rule} | {ours['failed']} | | (not run) | | | | |", flush=True)
                continue
            runs.append((ours["seconds"], name, rule,
                         f"{ours['seconds']:.2f} s, {ours['peak_mb']:.0f} MB"))
            cells = [name, rule, f"{ours['seconds']:.3f}", f"{ours['peak_mb']:.0f}"]
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
                        _ratio(theirs["seconds"] / max(ours["seconds"], 1e-6)),
                        f"{theirs['peak_mb'] / ours['peak_mb']:.1f}x",
                        "yes" if theirs["selected"] == ours["selected"] else "**NO**",
                    ]
            print("| " + " | ".join(cells) + " |", flush=True)
    if args.slowest > 0 and runs:
        shown = sorted(runs, key=lambda run: -run[0])[:args.slowest]
        how = "whole process" if args.whole_process else "rule time"
        print(f"\nSlowest {len(shown)} of ours ({how}):\n")
        print("| file | rule | ours |")
        print("|---|---|---:|")
        for _, name, rule, figures in shown:
            print(f"| {name} | {rule} | {figures} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        main()
