"""The one place that decides who may do what.

A city admin may do everything; a coordinator manages their own table's rounds; a member
moderates their own table's proposals; a resident edits their own content. Views turn a
``False`` here into 403 (after a missing object has already become 404).
"""

import enum

from pb_vote.models import MembershipRole, Proposal, Round, Table, User


class Action(enum.StrEnum):
    """Things a signed-in person may ask to do."""

    ADMINISTER = "administer"  # manage tables, staff and see the whole audit trail
    VIEW_STAFF_PAGES = "view_staff_pages"  # a table's staff overview, draft rounds included
    VIEW_DASHBOARD = "view_dashboard"  # the staff dashboard: anyone holding a staff role
    MANAGE_ROUNDS = "manage_rounds"  # create, configure and move rounds of a table
    MODERATE = "moderate"  # review proposals of a table
    EDIT_PROPOSAL = "edit_proposal"  # change one's own proposal


STAFF_ROLES = {MembershipRole.MEMBER, MembershipRole.COORDINATOR}
ROLES_ALLOWED = {
    Action.ADMINISTER: set(),
    Action.VIEW_STAFF_PAGES: STAFF_ROLES,
    Action.MANAGE_ROUNDS: {MembershipRole.COORDINATOR},
    Action.MODERATE: STAFF_ROLES,
}


def table_id_of(target: Table | Round | Proposal | None) -> int | None:
    """The id of the table a target belongs to."""
    if target is None:
        return None
    if isinstance(target, Table):
        return target.id
    if isinstance(target, Round):
        return target.table_id
    if isinstance(target, Proposal):
        return target.round.table_id
    raise TypeError(f"no table for {target!r}")


def is_allowed(user: User | None, action: Action, target=None) -> bool:
    """Whether ``user`` (None or anonymous: nobody signed in) may do ``action`` on ``target``."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_city_admin:
        return True
    if action is Action.VIEW_DASHBOARD:
        return user.is_staff
    if action is Action.EDIT_PROPOSAL:
        return isinstance(target, Proposal) and target.author_id == user.id
    table_id = table_id_of(target)
    if table_id is None:
        return False
    return user.role_at(table_id) in ROLES_ALLOWED[action]


def can_see_round(user: User | None, round_: Round) -> bool:
    """Public rounds are seen by everyone; a draft only by its table's staff."""
    return round_.phase.is_public or is_allowed(user, Action.VIEW_STAFF_PAGES, round_)


def can_see_proposal_content(user: User | None, proposal: Proposal) -> bool:
    """A proposal's content (its text and images): everyone who sees its round, unless it
    is hidden or withdrawn; then only its author and its table's staff."""
    if not can_see_round(user, proposal.round):
        return False
    if proposal.is_public:
        return True
    if user is None or not user.is_authenticated:
        return False
    return proposal.author_id == user.id or is_allowed(user, Action.MODERATE, proposal)
