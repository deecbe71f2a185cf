"""``pb-vote``: count a Pabulib file from the command line (standard library only).

    pb-vote tally FILE.pb [--rule RULE] [--tie-break default|lexico] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from pb_vote.tally.model import Election, ElectionError
from pb_vote.tally.pabulib import PabulibError, read_pabulib_with_warnings
from pb_vote.tally.result import Reason, TallyResult, number_as_json
from pb_vote.tally.rules import (
    ADD_ONE_STOPPING,
    META_RULES,
    PB_VOTE_MES_META,
    RULES,
    TIE_BREAKS,
    TallyError,
    tally,
)

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pb-vote``."""
    parser = argparse.ArgumentParser(prog="pb-vote", description="Participatory budgeting tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    count = commands.add_parser(
        "tally",
        help="count a Pabulib .pb file",
        description="Count a Pabulib .pb file and explain every project's outcome.",
    )
    count.add_argument("file", help="the .pb file")
    count.add_argument(
        "--rule",
        choices=RULES,
        help="the counting rule (default: the file's META rule when we implement it, else greedy)",
    )
    count.add_argument("--tie-break", choices=TIE_BREAKS, default="default")
    count.add_argument(
        "--add-one",
        choices=ADD_ONE_STOPPING,
        help="add-one stopping for the mes rules: 'pabutools' (first exhaustive outcome) or "
        "'pabulib' (the Pabulib checker: start at floor(budget/voters), stop only before "
        "exceeding the budget). Default: pabulib when the rule comes from the file's META, "
        "else pabutools",
    )
    count.add_argument("--threshold", help="support threshold for greedy-threshold")
    count.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pb-vote`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _tally_command(args)
    except (PabulibError, TallyError, ElectionError) as error:
        print(f"pb-vote: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _tally_command(args: argparse.Namespace) -> int:
    election, warnings = read_pabulib_with_warnings(args.file)
    for warning in warnings:
        print(f"pb-vote: warning: {warning}", file=sys.stderr)
    rule, origin = _choose_rule(election, args.rule)
    from_pabulib = (origin.startswith("the file")
                    and election.meta.get("rule", "").strip() != PB_VOTE_MES_META)
    stopping = args.add_one or ("pabulib" if from_pabulib else "pabutools")
    threshold = None
    if args.threshold is not None:
        from pb_vote.tally.pabulib import parse_number

        threshold = parse_number(args.threshold, "--threshold", "", 0)
    result = tally(
        election, rule, tie_break=args.tie_break, threshold=threshold, add_one_stopping=stopping
    )
    official = _official(election)
    if args.json:
        data = {"file": args.file, "rule_source": origin, **result.as_dict(election.unit_scale)}
        if official is not None:
            data["official_selected"] = official
            data["matches_official"] = set(official) == set(result.selected)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(_table(args.file, origin, result, election, official))
    return 0


def _choose_rule(election: Election, requested: str | None) -> tuple[str, str]:
    if requested:
        return requested, "--rule"
    meta_rule = election.meta.get("rule", "").strip()
    if meta_rule in META_RULES:
        return META_RULES[meta_rule], f"the file's META rule {meta_rule!r}"
    shown = repr(meta_rule) if meta_rule else "none"
    return "greedy", f"default: the file's META rule ({shown}) is not one we implement"


def _official(election: Election) -> list[str] | None:
    if not any("selected" in p.fields for p in election.projects):
        return None
    return [p.id for p in election.projects if p.fields.get("selected", "").strip() == "1"]


def _fmt(value: object) -> str:
    if value is None:
        return ""
    shown = number_as_json(value)  # type: ignore[arg-type]
    return str(shown)


def _table(
    path: str, origin: str, result: TallyResult, election: Election, official: list[str] | None
) -> str:
    def money(value: object) -> str:
        return "" if value is None else election.amount_text(value)  # type: ignore[arg-type]

    lines = [
        f"File:       {path}",
        f"Rule:       {result.rule} ({origin})",
        f"Budget:     {money(result.budget)}",
        f"Funded:     {len(result.selected)} projects, {money(result.total_cost)} spent, "
        f"{money(result.money_left)} left",
    ]
    if result.voter_budget is not None:
        lines.append(f"Voter budget (equal shares): {money(result.voter_budget)}")
    if official is not None:
        same = set(official) == set(result.selected)
        lines.append(
            "Official:   " + ("same projects as the file's `selected` column" if same else
                              f"DIFFERS from the file's `selected` column ({len(official)} funded)")
        )
    lines += [f"Note:       {note}" for note in result.notes]
    order = {pid: i for i, pid in enumerate(result.selected)}
    rows = sorted(
        result.projects,
        key=lambda p: (order.get(p.project_id, len(order)), -_sortable(p.support), p.project_id),
    )
    header = ("#", "project", "cost", "support", "outcome", "money left", "figures")
    table = [header]
    for p in rows:
        figures = []
        if p.rho is not None:  # per point under mes-cardinality: an amount
            figures.append(f"rho={money(p.rho) if result.rho_is_money else _fmt(p.rho)}")
        if p.effective_votes is not None:
            figures.append(f"effective votes={_fmt(p.effective_votes)}")
        if p.supporters_money is not None and p.reason is not Reason.FUNDED:
            figures.append(f"supporters held {money(p.supporters_money)}")
        if p.phase is not None:
            figures.append(p.phase.value)
        table.append((
            str(p.position or ""), p.project_id, money(p.cost), _fmt(p.support), p.reason.value,
            money(p.money_left), "; ".join(figures),
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines.append("")
    for row in table:
        cells = [row[i].rjust(widths[i]) if i in (0, 2, 3, 5) else row[i].ljust(widths[i])
                 for i in range(len(widths))]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _sortable(value: object) -> float:
    # display order only: never decides an outcome
    return float(value)  # type: ignore[arg-type]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
