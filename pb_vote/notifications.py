"""Every mail the service sends, composed in one place: each in its recipient's language
(the request's when the recipient has no account yet), with absolute links. Mail is only
queued here, in the caller's transaction (see :mod:`pb_vote.mail`)."""

from collections.abc import Callable
from contextlib import nullcontext

from flask import current_app, render_template
from flask_babel import force_locale, get_locale, gettext

from pb_vote.blueprints.common import link_max_age
from pb_vote.blueprints.labels import FEASIBILITY_LABELS
from pb_vote.formatting import local_datetime
from pb_vote.mail import queue_mail, queue_mails
from pb_vote.models import (
    FeasibilityRequest,
    NoticeKind,
    Proposal,
    Round,
    Table,
    TokenPurpose,
    User,
)
from pb_vote.services import notices
from pb_vote.services import sign_in as login_links
from pb_vote.services.accounts import find_user_by_email
from pb_vote.services.voting import CastResult
from pb_vote.urls import public_url


def link(endpoint: str, **values) -> str:
    """An absolute link for a mail, on the public address (never the request's Host)."""
    return public_url(endpoint, **values)


def send(to: str | None, language: str | None, subject: Callable[[], str], template: str,
         **context) -> None:
    """Queue one mail to ``to`` in ``language`` (the request's language when None): the
    subject is a function so that it is translated in that language too. Nothing when
    ``to`` is None (a strongly identified resident who gave no address)."""
    if not to:
        return
    with force_locale(language) if language else nullcontext():
        queue_mail(to, subject(), render_template(template, **context))


def _language_of(email: str) -> str | None:
    user = find_user_by_email(email)
    return user.language if user is not None else None


def one_time_link(email: str, purpose: TokenPurpose, next_url: str | None = None) -> None:
    """Mail a one-time link: a resident's sign-in link, or a staff password link."""
    token = login_links.issue_link_token(current_app.config["SECRET_KEY"], email, purpose)
    minutes = link_max_age(purpose) // 60
    if purpose is TokenPurpose.SIGN_IN:
        params = {"next": next_url} if next_url else {}
        send(email, _language_of(email), lambda: gettext("Your sign-in link"),
             "mail/sign_in_link.txt", link=link("auth.open_link", token=token, **params),
             minutes=minutes)
    else:
        send(email, _language_of(email), lambda: gettext("Set your password"),
             "mail/set_password_link.txt", link=link("auth.open_password_link", token=token),
             minutes=minutes)


def staff_use_password(user: User) -> None:
    """Tell a staff member who asked for a resident's link to sign in with the password."""
    send(user.email, user.language, lambda: gettext("How to sign in"),
         "mail/staff_use_password.txt", staff_link=link("auth.staff_sign_in"),
         forgot_link=link("auth.forgot_password"))


SECOND_FACTOR_CHANGES = ("enrolled", "recovery_code_used", "reset")


def second_factor_changed(user: User, change: str) -> None:
    """Tell a staff member that their second factor was set up, stood in for by a recovery
    code, or reset: if it was not them, someone may know their password."""
    if change not in SECOND_FACTOR_CHANGES:
        raise ValueError(f"unknown change {change!r}")
    send(user.email, user.language, lambda: gettext("Your second factor"),
         "mail/second_factor_changed.txt", change=change,
         staff_link=link("auth.staff_sign_in"))


def role_granted(user: User, table: Table) -> None:
    """Tell a person without a password of their new role, with a link to choose one."""
    if user.password_hash:
        return
    token = login_links.issue_link_token(current_app.config["SECRET_KEY"], user.email,
                                         TokenPurpose.SET_PASSWORD)
    send(user.email, user.language,
         lambda: gettext("You have a role at %(table)s",
                         table=table.text_in("name", user.language)),
         "mail/role_granted.txt", table=table,
         link=link("auth.open_password_link", token=token))


def proposal_status_changed(proposal: Proposal) -> None:
    """Tell the author of ``proposal`` its new status (nothing when it has no author)."""
    author = proposal.author
    if author is None:
        return
    send(author.email, author.language,
         lambda: gettext("Your proposal “%(title)s”", title=proposal.title),
         "mail/proposal_status.txt", proposal=proposal,
         link=link("public.proposal_page", proposal_id=proposal.id))


def proposal_merged_into_yours(survivor: Proposal, merged: list[Proposal]) -> None:
    """Tell the surviving proposal's author which proposals were merged into theirs."""
    author = survivor.author
    if author is None:
        return
    send(author.email, author.language,
         lambda: gettext("Similar ideas were merged into “%(title)s”", title=survivor.title),
         "mail/proposal_merged_in.txt", proposal=survivor, merged=merged,
         link=link("public.proposal_page", proposal_id=survivor.id))


def proposals_moderated(proposal: Proposal, changed: list[Proposal], *, merged: bool) -> None:
    """Tell the authors of the ``changed`` proposals their new status, and, after a merge,
    the author of the surviving ``proposal`` which ideas joined theirs."""
    for changed_proposal in changed:
        proposal_status_changed(changed_proposal)
    if merged:
        proposal_merged_into_yours(proposal, changed)


# Where each person's own unsubscribe link goes in a notice written once per language.
_UNSUBSCRIBE_MARK = "@@unsubscribe@@"
ROUND_NOTICES = {
    NoticeKind.IDEAS_OPEN: ("mail/ideas_open.txt", "public.round_page",
                            lambda title: gettext("Ideas wanted: %(round)s", round=title)),
    NoticeKind.VOTING_OPEN: ("mail/voting_open.txt", "public.round_page",
                             lambda title: gettext("Voting has opened: %(round)s",
                                                   round=title)),
    NoticeKind.VOTING_REMINDER: ("mail/voting_reminder.txt", "public.round_page",
                                 lambda title: gettext("Voting closes soon: %(round)s",
                                                       round=title)),
}


def _notices(kind: NoticeKind, people: list, write: Callable[[], tuple[str, str]]) -> None:
    """Queue a notice of ``kind`` to each of ``people`` (users, or rows with id, email
    and language) in their language, in one statement: ``write`` gives its subject and
    body in the current language, once per language; each body gets the person's own
    one-click unsubscribe link (also the List-Unsubscribe header)."""
    secret = current_app.config["SECRET_KEY"]
    stop_link = link("account.unsubscribe", token=_UNSUBSCRIBE_MARK)
    written: dict[str | None, tuple[str, str]] = {}
    messages = []
    for person in people:
        if not person.email:
            continue
        if person.language not in written:
            with force_locale(person.language) if person.language else nullcontext():
                written[person.language] = write()
        subject, body = written[person.language]
        stop = stop_link.replace(_UNSUBSCRIBE_MARK, notices.unsubscribe_token(
            secret, person.id, person.email, kind))
        messages.append((person.email, subject, body.replace(_UNSUBSCRIBE_MARK, stop), stop))
    queue_mails(messages)


def _footer_links() -> dict:
    return {"unsubscribe": _UNSUBSCRIBE_MARK, "account_link": link("account.edit")}


def results_published(round_: Round, people: list[User]) -> None:
    """Queue the notice that the results of ``round_`` are out to ``people``, each in their
    language: one batch of the background job (``jobs.mail_results``), in one statement.
    The notice is the same for everyone who reads a language, so it is written once per
    language, not once per person (but for its unsubscribe link)."""
    results_link = link("results.latest", round_id=round_.id)

    def write() -> tuple[str, str]:
        return (gettext("Results of %(round)s",
                        round=round_.text_in("title", str(get_locale()))),
                render_template("mail/results_published.txt", round=round_,
                                link=results_link, **_footer_links()))

    _notices(NoticeKind.RESULTS, people, write)


def round_notices(round_: Round, kind: NoticeKind, people: list) -> None:
    """Queue the notice of ``kind`` (ideas open, voting open, the reminder) of ``round_``
    to ``people``: one batch of the background job (``jobs.mail_round_notices``)."""
    template, endpoint, subject = ROUND_NOTICES[kind]
    round_link = link(endpoint, round_id=round_.id)

    def write() -> tuple[str, str]:
        return (subject(round_.text_in("title", str(get_locale()))),
                render_template(template, round=round_, link=round_link, **_footer_links()))

    _notices(kind, people, write)


def vote_receipt(user: User, round_: Round, result: CastResult) -> None:
    """Mail a resident the receipt of the vote just cast (never its choices). Queued in the
    vote's own transaction, so the mail exists exactly when the vote does."""
    send(user.email, user.language,
         lambda: gettext("Your vote in %(round)s is recorded",
                         round=round_.text_in("title", user.language)),
         "mail/vote_receipt.txt", round=round_, result=result,
         link=link("voting.ballot", round_id=round_.id))


def opinion_requested(request: FeasibilityRequest, token: str) -> None:
    """Mail a department's contact the one-time link to answer a reviewer's question, in
    the language the reviewer chose for them."""
    proposal = request.proposal
    round_ = proposal.round
    language = request.language
    asker = request.requested_by
    with force_locale(language):
        until = local_datetime(request.expires_at, round_.time_zone, "short")
    send(request.contact_email, language,
         lambda: gettext("A question on the proposal “%(title)s”", title=proposal.title),
         "mail/opinion_requested.txt", request=request,
         asker=asker.name_or_email if asker else "",
         table_name=round_.table.text_in("name", language),
         round_title=round_.text_in("title", language),
         until=until,
         link=link("opinions.answer_page", token=token))


def opinion_answered(request: FeasibilityRequest) -> None:
    """Tell the reviewer who asked that the department has answered (nothing when their
    account is gone)."""
    reviewer = request.requested_by
    if reviewer is None:
        return
    contact = request.contact_name + (f", {request.department}" if request.department else "")
    verdict = FEASIBILITY_LABELS[request.feasibility.value]  # lazy: in the mail's language
    send(reviewer.email, reviewer.language,
         lambda: gettext("An answer on the proposal “%(title)s”", title=request.proposal.title),
         "mail/opinion_answered.txt", request=request, contact=contact, verdict=verdict,
         link=link("moderation.moderate", proposal_id=request.proposal_id))


def new_comments_on_idea(proposal: Proposal, comments: list) -> None:
    """Tell the author of ``proposal``, who asked for it, how many new comments it has
    (one mail for a burst of them; the comments themselves are on the page)."""
    author = proposal.author
    if author is None:
        return
    send(author.email, author.language,
         lambda: gettext("New comments on “%(title)s”", title=proposal.title),
         "mail/new_comments.txt", proposal=proposal, count=len(comments),
         table_answered=any(comment.as_table for comment in comments),
         link=link("public.proposal_page", proposal_id=proposal.id, _anchor="comments"),
         settings_link=link("account.edit", _anchor="comment-mail"))
