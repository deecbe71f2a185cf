"""Mail to authors when something happens to their proposals, in the author's language."""

from flask import render_template, url_for
from flask_babel import force_locale, gettext

from pb_vote.mail import queue_mail
from pb_vote.models import Proposal


def proposal_status_changed(proposal: Proposal) -> None:
    """Tell the author of ``proposal`` its new status (nothing when it has no author)."""
    author = proposal.author
    if author is None:
        return
    with force_locale(author.language):
        subject = gettext("Your proposal “%(title)s”", title=proposal.title)
        body = render_template(
            "mail/proposal_status.txt",
            proposal=proposal,
            link=url_for("public.proposal_page", proposal_id=proposal.id, _external=True),
        )
    queue_mail(author.email, subject, body)


def proposal_merged_into_yours(survivor: Proposal, merged: list[Proposal]) -> None:
    """Tell the surviving proposal's author which proposals were merged into theirs."""
    author = survivor.author
    if author is None:
        return
    with force_locale(author.language):
        subject = gettext("Similar ideas were merged into “%(title)s”", title=survivor.title)
        body = render_template(
            "mail/proposal_merged_in.txt",
            proposal=survivor,
            merged=merged,
            link=url_for("public.proposal_page", proposal_id=survivor.id, _external=True),
        )
    queue_mail(author.email, subject, body)
