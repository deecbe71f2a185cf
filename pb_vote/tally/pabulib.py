"""Read and write Pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, each introduced by a line ``META``, ``PROJECTS`` or ``VOTES`` and a
header row; fields are ``;`` separated and may be quoted. META rows are ``key;value``. PROJECTS
needs ``project_id`` and ``cost``; VOTES needs ``voter_id`` and ``vote`` (comma-separated project
ids, best first for ordinal ballots) and ``points`` for cumulative or scoring ballots. A UTF-8 BOM
and decimal commas in numbers (``1200,00``) are accepted.

The budget and costs may have decimals (Warsaw's ``budget;376634.74``, costs like ``4000.0``):
they are read exactly (``decimal.Decimal``) and every amount of the file is scaled by 10^d, d the
most decimals any of them needs, to whole numbers; the Election records 10^d as ``unit_scale``.
A vote that names a project twice is read as pabutools reads it (an approval or ordinal ballot
keeps the project once, at its first place; points, scoring or cumulative: the later value
stands, at the first place) and :func:`read_pabulib_with_warnings` reports it with its line, and
with the file's own per-project ``votes`` or ``score`` column when that column then disagrees with
the votes as read (Częstochowa 2020's ``score`` counts every copy of the points).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from pb_vote.tally.model import Ballot, Election, ElectionError, Number, Project, VoteType

SECTIONS = ("meta", "projects", "votes")


class PabulibError(ValueError):
    """A Pabulib file that cannot be read; the message names the section, line and problem."""

    def __init__(self, problem: str, section: str | None = None, line: int | None = None):
        self.problem = problem
        self.section = section
        self.line = line
        where = []
        if section:
            where.append(section.upper())
        if line:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


@dataclass(frozen=True)
class PabulibWarning:
    """Something read that a careful reader should know about, with its section and line."""

    problem: str
    section: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return str(PabulibError(self.problem, self.section, self.line))


def read_pabulib(path: str | Path) -> Election:
    """Read a ``.pb`` file into an :class:`Election` (warnings are dropped)."""
    return read_pabulib_with_warnings(path)[0]


def read_pabulib_with_warnings(path: str | Path) -> tuple[Election, list[PabulibWarning]]:
    """Read a ``.pb`` file into an :class:`Election` and the warnings met on the way."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise PabulibError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PabulibError(f"not UTF-8 text (byte {error.start})") from None
    return parse_pabulib_with_warnings(text)


def parse_number(raw: str, what: str, section: str, line: int) -> Number:
    """An exact number from ``12``, ``12.5`` or ``12,5``; int when whole."""
    text = raw.strip().replace(",", ".")
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"{what} is not a number: {raw!r}", section, line) from None
    return value.numerator if value.denominator == 1 else value


def parse_amount(raw: str, what: str, section: str, line: int) -> Decimal:
    """An exact amount of money from ``12``, ``12.50`` or ``12,50`` (never a float)."""
    text = raw.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise PabulibError(f"{what} is not a number: {raw!r}", section, line) from None
    if not value.is_finite():
        raise PabulibError(f"{what} is not a number: {raw!r}", section, line)
    return value


def _decimals(value: Decimal) -> int:
    """How many decimals the amount needs (``4000.0`` needs none, ``0.50`` one)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _scaled(value: Decimal, scale: int) -> int:
    scaled = value * scale
    assert scaled == scaled.to_integral_value()
    return int(scaled)


def parse_pabulib(text: str) -> Election:
    """Parse the text of a ``.pb`` file into an :class:`Election` (warnings are dropped)."""
    return parse_pabulib_with_warnings(text)[0]


def parse_pabulib_with_warnings(text: str) -> tuple[Election, list[PabulibWarning]]:
    """Parse the text of a ``.pb`` file into an :class:`Election` and the warnings met."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    section = ""
    header: list[str] = []
    header_line = 0
    meta: dict[str, str] = {}
    project_rows: list[tuple[int, dict[str, str]]] = []
    vote_rows: list[tuple[int, dict[str, str]]] = []
    seen_sections: set[str] = set()
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            name = row[0].strip().lower()
            if (name in SECTIONS and len(row) == 1) or (name in SECTIONS and not any(row[1:])):
                if name in seen_sections:
                    raise PabulibError(f"section {name.upper()} appears twice", name, line)
                seen_sections.add(name)
                section = name
                header_line = start
                header = [h.strip() for h in next(reader, [])]
                start = reader.line_num + 1
                if not any(header):
                    raise PabulibError("missing header row", section, header_line)
                _check_header(section, header, header_line)
                continue
            if not section:
                raise PabulibError("expected META, PROJECTS or VOTES before the data", None, line)
            if section == "meta":
                if len(row) < 2:
                    raise PabulibError("expected key;value", section, line)
                meta[row[0].strip()] = ";".join(row[1:]).strip()
                continue
            if len(row) != len(header):
                raise PabulibError(
                    f"{len(row)} fields but the header has {len(header)}", section, line
                )
            fields = {key: value.strip() for key, value in zip(header, row, strict=True)}
            (project_rows if section == "projects" else vote_rows).append((line, fields))
    except csv.Error as error:
        raise PabulibError(f"malformed field: {error}", section or None, start) from None
    for needed in SECTIONS:
        if needed not in seen_sections:
            raise PabulibError(f"the file has no {needed.upper()} section")
    return _build(meta, project_rows, vote_rows)


def _check_header(section: str, header: list[str], line: int) -> None:
    required = {"meta": ("key", "value"), "projects": ("project_id", "cost"),
                "votes": ("voter_id", "vote")}[section]
    missing = [name for name in required if name not in header]
    if missing:
        raise PabulibError(f"header lacks column {', '.join(missing)}", section, line)
    if len(set(header)) != len(header):
        raise PabulibError("header repeats a column", section, line)


def _build(
    meta: dict[str, str],
    project_rows: list[tuple[int, dict[str, str]]],
    vote_rows: list[tuple[int, dict[str, str]]],
) -> tuple[Election, list[PabulibWarning]]:
    if "budget" not in meta:
        raise PabulibError("no budget", "meta")
    raw_budget = parse_amount(meta["budget"], "budget", "meta", 0)
    if raw_budget < 0:
        raise PabulibError(f"budget must not be negative, got {meta['budget']!r}", "meta")
    raw_costs = []
    for line, fields in project_rows:
        what = f"cost of project {fields['project_id']!r}"
        raw_costs.append(parse_amount(fields["cost"], what, "projects", line))
    scale = 10 ** max(_decimals(amount) for amount in [raw_budget, *raw_costs])
    budget = _scaled(raw_budget, scale)
    warnings: list[PabulibWarning] = []
    raw_type = meta.get("vote_type", "").strip().lower()
    try:
        vote_type = VoteType(raw_type)
    except ValueError:
        known = ", ".join(v.value for v in VoteType)
        raise PabulibError(f"vote_type {raw_type!r} is not one of {known}", "meta") from None

    projects = []
    known: set[str] = set()
    for (line, fields), raw_cost in zip(project_rows, raw_costs, strict=True):
        project_id = fields.pop("project_id")
        if not project_id:
            raise PabulibError("empty project_id", "projects", line)
        if project_id in known:
            raise PabulibError(f"project {project_id!r} is listed twice", "projects", line)
        known.add(project_id)
        fields.pop("cost")
        cost = _scaled(raw_cost, scale)
        if cost <= 0:
            raise PabulibError(f"cost of project {project_id!r} must be positive", "projects", line)
        projects.append(Project(project_id, cost, fields))

    ballots = []
    voters: set[str] = set()
    repeated: list[tuple[int, list[str], str]] = []  # line, projects named twice, what was done
    for line, fields in vote_rows:
        voter_id = fields.pop("voter_id")
        if voter_id in voters:
            raise PabulibError(f"voter {voter_id!r} appears twice", "votes", line)
        voters.add(voter_id)
        names = [name.strip() for name in fields.pop("vote").split(",") if name.strip()]
        for name in names:
            if name not in known:
                raise PabulibError(f"vote names unknown project {name!r}", "votes", line)
        points = None
        raw_points = fields.pop("points", "")
        if vote_type.has_points:
            items = [p for p in raw_points.split(",") if p.strip()] if raw_points else []
            if len(items) != len(names):
                raise PabulibError(
                    f"{len(names)} projects but {len(items)} points", "votes", line
                )
            values = [parse_number(p, "points", "votes", line) for p in items]
            if any(p < 0 for p in values):
                raise PabulibError("points must not be negative", "votes", line)
            if len(set(names)) != len(names):
                # pabutools 1.2.3 assigns ballot[project] = points in turn, for cumulative
                # ballots too: the later value stands, the first place is kept
                merged = dict(zip(names, values, strict=True))
                repeated.append((line, _repeated(names), "the later points stand"))
                names, values = list(merged), list(merged.values())
            points = tuple(values)
        elif len(set(names)) != len(names):
            how = ("kept at its first place" if vote_type is VoteType.ORDINAL
                   else "counted once")
            repeated.append((line, _repeated(names), how))
            names = list(dict.fromkeys(names))
        if raw_points and not vote_type.has_points:
            fields["points"] = raw_points
        try:
            ballots.append(Ballot(tuple(names), points, voter_id, fields))
        except ElectionError as error:
            raise PabulibError(str(error), "votes", line) from None
    try:
        election = Election(vote_type, budget, tuple(projects), tuple(ballots), meta, scale)
    except ElectionError as error:
        raise PabulibError(str(error)) from None
    if repeated:
        disagreeing = _columns_disagreeing(election, {n for _, names, _ in repeated for n in names})
        for line, names, how in repeated:
            warnings.append(_twice(names, how, line, disagreeing))
    return election, warnings


def _repeated(names: list[str]) -> list[str]:
    return sorted({name for name in names if names.count(name) > 1})


def _columns_disagreeing(
    election: Election, names: set[str]
) -> dict[str, list[tuple[str, str, Number]]]:
    """For the projects ``names``: each file column ``votes`` (ballots naming the project) or
    ``score`` (their points, for points ballots) whose value differs from the votes as read."""
    votes: dict[str, int] = dict.fromkeys(names, 0)
    score: dict[str, Number] = dict.fromkeys(names, 0)
    for ballot in election.ballots:
        for n, name in enumerate(ballot.projects):
            if name in votes:
                votes[name] += 1
                if ballot.points is not None:
                    score[name] += ballot.points[n]
    columns = {"votes": votes, "score": score} if election.vote_type.has_points else {
        "votes": votes}
    found: dict[str, list[tuple[str, str, Number]]] = {}
    for project in election.projects:
        if project.id not in names:
            continue
        for column, read in columns.items():
            raw = project.fields.get(column, "").strip()
            try:
                stated = Fraction(raw.replace(",", "."))
            except (ValueError, ZeroDivisionError):
                continue  # no such column, or not a number: nothing to compare
            if stated != read[project.id]:
                found.setdefault(project.id, []).append((column, raw, read[project.id]))
    return found


def _twice(names: list[str], how: str, line: int,
           disagreeing: dict[str, list[tuple[str, str, Number]]]) -> PabulibWarning:
    shown = ", ".join(repr(name) for name in names)
    problem = f"the vote names project {shown} more than once: {how}"
    differences = [
        f"the file's {column} column gives {name!r} {stated}, the votes as read give it "
        f"{_number_text(read)}"
        for name in names for column, stated, read in disagreeing.get(name, [])
    ]
    if differences:
        problem += f" ({'; '.join(differences)})"
    return PabulibWarning(problem, "votes", line)


def _number_text(value: Number) -> str:
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return str(value)


def format_pabulib(election: Election) -> str:
    """The election as Pabulib text (``parse_pabulib`` and pabutools both read it back)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    meta = dict(election.meta)
    meta["num_projects"] = str(len(election.projects))
    meta["num_votes"] = str(len(election.ballots))
    meta["budget"] = election.amount_text(election.budget)
    meta["vote_type"] = election.vote_type.value
    out.write("META\n")
    writer.writerow(["key", "value"])
    writer.writerows([key, _one_line(value)] for key, value in meta.items())

    project_columns = _columns(["project_id", "cost"], (p.fields for p in election.projects))
    out.write("PROJECTS\n")
    writer.writerow(project_columns)
    for project in election.projects:
        values = {**project.fields, "project_id": project.id,
                  "cost": election.amount_text(project.cost)}
        writer.writerow([_one_line(values.get(c, "")) for c in project_columns])

    first = ["voter_id", "vote"] + (["points"] if election.vote_type.has_points else [])
    vote_columns = _columns(first, (b.fields for b in election.ballots))
    out.write("VOTES\n")
    writer.writerow(vote_columns)
    for number, ballot in enumerate(election.ballots, start=1):
        values = {**ballot.fields, "voter_id": ballot.voter_id or str(number),
                  "vote": ",".join(ballot.projects)}
        if ballot.points is not None:
            values["points"] = ",".join(_number_text(p) for p in ballot.points)
        writer.writerow([_one_line(values.get(c, "")) for c in vote_columns])
    return out.getvalue()


def write_pabulib(election: Election, path: str | Path) -> None:
    """Write the election to ``path`` as a UTF-8 ``.pb`` file."""
    Path(path).write_text(format_pabulib(election), encoding="utf-8")


def _columns(first: list[str], field_maps: Iterable[dict[str, str] | object]) -> list[str]:
    columns = list(first)
    for fields in field_maps:
        for key in fields:  # type: ignore[attr-defined]
            if key not in columns:
                columns.append(key)
    return columns


def _one_line(value: str) -> str:
    # pabutools splits the text into lines before reading fields: keep every field on one line
    return " ".join(str(value).splitlines())
