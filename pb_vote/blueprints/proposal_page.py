"""The proposal page, which the public pages and the comments both render: a refused
comment is shown again there, with its errors and its text."""

from flask import render_template
from flask_login import current_user

from pb_vote import clock
from pb_vote.blueprints.comments.forms import HIDDEN_REASON_LABELS, CommentForm
from pb_vote.blueprints.outcomes import published_outcomes
from pb_vote.models import Proposal
from pb_vote.services import comments as comment_service
from pb_vote.services import proposals as proposal_service
from pb_vote.services import supports as support_service


def comment_section(proposal: Proposal, form: CommentForm | None = None) -> dict:
    """What the proposal page needs to show its comments and the comment form."""
    table_staff = comment_service.may_answer_as_table(current_user, proposal)
    return {
        "comments": comment_service.visible_comments(proposal),
        "comments_open": comment_service.comments_open(proposal),
        "comment_form": form or (CommentForm(formdata=None)
                                 if current_user.is_authenticated else None),
        "may_answer_as_table": table_staff,
        "may_moderate_comments": table_staff,
        "hidden_reason_labels": HIDDEN_REASON_LABELS,
    }


def render_proposal_page(proposal: Proposal, round_, comment_form=None, status=None):
    """The proposal page (``proposal_page``); ``comment_form`` is a refused comment to show
    again with its errors and text, with ``status``."""
    is_author = current_user.is_authenticated and proposal.author_id == current_user.id
    if not proposal.is_public and not is_author:
        status = 410  # hidden or withdrawn: the page says so, the content is not shown
    show_content = proposal.is_public or is_author
    return render_template(
        "public/proposal.html", proposal=proposal, round=round_, is_author=is_author,
        show_content=show_content,
        credited=proposal_service.credited_authors(proposal),
        may_edit=is_author and proposal_service.author_may_edit(proposal, clock.utcnow()),
        outcome=published_outcomes(round_).get(proposal.id) if proposal.is_public else None,
        support_count=support_service.support_count(proposal),
        supported=proposal.id in support_service.supported_by(current_user, round_),
        **(comment_section(proposal, comment_form) if show_content else {}),
    ), status or 200
