"""The tally: exact participatory-budgeting rules, pure Python (no Flask, no database).

``tally(election, rule)`` counts an :class:`Election` and returns a :class:`TallyResult` that
explains every project's outcome. ``read_pabulib`` / ``write_pabulib`` handle Pabulib files.
"""

from pb_vote.tally.model import Ballot, Election, ElectionError, Project, VoteType, make_election
from pb_vote.tally.pabulib import (
    PabulibError,
    format_pabulib,
    parse_pabulib,
    read_pabulib,
    write_pabulib,
)
from pb_vote.tally.result import Phase, ProjectResult, Reason, TallyResult
from pb_vote.tally.rules import (
    DEFAULT_TIE_BREAK,
    PB_VOTE_MES_META,
    RULES,
    TallyError,
    tally,
)

__all__ = [
    "DEFAULT_TIE_BREAK",
    "PB_VOTE_MES_META",
    "RULES",
    "Ballot",
    "Election",
    "ElectionError",
    "PabulibError",
    "Phase",
    "Project",
    "ProjectResult",
    "Reason",
    "TallyError",
    "TallyResult",
    "VoteType",
    "format_pabulib",
    "make_election",
    "parse_pabulib",
    "read_pabulib",
    "tally",
    "write_pabulib",
]
