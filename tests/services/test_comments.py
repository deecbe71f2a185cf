"""Comments on ideas: phase rules, the table's answer, reports, hiding, the rate limit and
the hourly mail to the idea's author."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_vote import jobs
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Comment,
    HiddenReason,
    Proposal,
    ProposalStatus,
    RoundPhase,
)
from pb_vote.services import comments
from pb_vote.services.comments import CommentError, CommentLimits
from tests import factories

NO_LIMIT = CommentLimits(per_window=1000, interval=timedelta(0))


@pytest.fixture
def scene(app_ctx):
    return factories.comment_scene()


def _idea(scene) -> Proposal:
    return db.session.get(Proposal, scene.proposal_id)


def test_a_resident_of_another_area_comments_and_the_text_is_kept_trimmed(scene):
    comment = comments.post_comment(scene.neighbour, _idea(scene), "  Good idea!\n ")
    assert (comment.body, comment.as_table, comment.author_id) == (
        "Good idea!", False, scene.neighbour.id)
    assert comments.visible_comments(_idea(scene)) == [comment]


@pytest.mark.parametrize("body, code", [("   ", "comment_empty"),
                                        ("x" * 2001, "comment_too_long")])
def test_an_empty_or_too_long_comment_is_refused(scene, body, code):
    with pytest.raises(CommentError) as refused:
        comments.post_comment(scene.neighbour, _idea(scene), body)
    assert refused.value.code == code


@pytest.mark.parametrize("phase, open_", [(RoundPhase.PROPOSALS, True),
                                          (RoundPhase.REVIEW, True),
                                          (RoundPhase.VOTING, False),
                                          (RoundPhase.PUBLISHED, False)])
def test_comments_are_taken_while_ideas_are_collected_or_reviewed(scene, phase, open_):
    idea = _idea(scene)
    idea.round.phase = phase
    assert comments.comments_open(idea) is open_
    if not open_:
        with pytest.raises(CommentError, match="comments_closed"):
            comments.post_comment(scene.neighbour, idea, "Too late?")


@pytest.mark.parametrize("status", [ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN,
                                    ProposalStatus.HIDDEN])
def test_a_closed_idea_takes_no_comments(scene, status):
    idea = _idea(scene)
    idea.status, idea.rejection_reason, idea.hidden_reason = status, "No.", "No."
    with pytest.raises(CommentError, match="comments_closed"):
        comments.post_comment(scene.neighbour, idea, "Hello")


def test_only_the_ideas_table_answers_as_the_table_and_it_is_audited(scene):
    with pytest.raises(CommentError, match="not_at_table"):
        comments.post_comment(scene.outsider, _idea(scene), "We think", as_table=True)
    with pytest.raises(CommentError, match="not_at_table"):
        comments.post_comment(scene.neighbour, _idea(scene), "We think", as_table=True)
    answer = comments.post_comment(scene.city.member, _idea(scene), "We look at it.",
                                   as_table=True, show_name=False)
    assert answer.as_table and answer.author_id == scene.city.member.id
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "comment.answered_as_table")).scalar_one()
    assert (event.actor_id, event.object_id) == (scene.city.member.id, str(answer.id))


def test_a_person_reports_a_comment_once(scene):
    comment = comments.post_comment(scene.neighbour, _idea(scene), "Rubbish")
    comments.report_comment(scene.city.resident, comment, "Rude")
    with pytest.raises(CommentError, match="already_reported"):
        comments.report_comment(scene.city.resident, comment, "")
    comments.report_comment(scene.author, comment)
    with pytest.raises(CommentError, match="own_comment"):
        comments.report_comment(scene.neighbour, comment)
    assert [r.reason for r in comment.reports] == ["Rude", ""]
    [listed] = comments.reported_comments(_idea(scene).round)
    assert listed.comment == comment and len(listed.reports) == 2


def test_only_the_ideas_table_hides_and_the_hide_is_audited(scene):
    comment = comments.post_comment(scene.neighbour, _idea(scene), "Rubbish")
    comments.report_comment(scene.author, comment)
    with pytest.raises(CommentError, match="not_at_table"):
        comments.hide_comment(scene.outsider, comment, HiddenReason.ABUSE)
    assert not comment.is_hidden
    comments.hide_comment(scene.city.member, comment, HiddenReason.ABUSE, "Name-calling")
    assert comment.is_hidden and comment.hidden_reason is HiddenReason.ABUSE
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "comment.hidden")).scalar_one()
    assert event.details["reason"] == "abuse" and event.details["note"] == "Name-calling"
    assert comments.reported_comments(_idea(scene).round) == []
    with pytest.raises(CommentError, match="comment_already_hidden"):
        comments.report_comment(scene.city.resident, comment)


def test_the_rate_limit_counts_per_person(scene, frozen_clock):
    limits = CommentLimits(per_window=3, interval=timedelta(seconds=20))
    idea = _idea(scene)
    comments.post_comment(scene.neighbour, idea, "One", limits=limits)
    with pytest.raises(CommentError, match="comment_rate_limited"):  # within 20 s
        comments.post_comment(scene.neighbour, idea, "Two", limits=limits)
    comments.post_comment(scene.author, idea, "Someone else", limits=limits)
    for text in ("Two", "Three"):
        frozen_clock.advance(seconds=21)
        comments.post_comment(scene.neighbour, idea, text, limits=limits)
    frozen_clock.advance(seconds=21)
    with pytest.raises(CommentError, match="comment_rate_limited"):  # 3 in 10 minutes
        comments.post_comment(scene.neighbour, idea, "Four", limits=limits)
    frozen_clock.advance(minutes=10)
    comments.post_comment(scene.neighbour, idea, "Four", limits=limits)
    assert len(comments.visible_comments(idea)) == 5


def test_the_author_gets_one_mail_per_idea_per_hour(app, scene, mailbox, frozen_clock):
    idea = _idea(scene)
    for text in ("First", "Second"):
        comments.post_comment(scene.neighbour, idea, text, limits=NO_LIMIT)
    comments.post_comment(scene.author, idea, "My own reply", limits=NO_LIMIT)
    db.session.commit()
    assert jobs.mail_comment_news() == 1
    [mail] = [m for m in mailbox if m.to == "author@example.org"]
    assert "2 new comments" in mail.body and "Benches by the lake" in mail.subject
    comments.post_comment(scene.city.member, _idea(scene), "The table's answer",
                          as_table=True, limits=NO_LIMIT)
    db.session.commit()
    frozen_clock.advance(minutes=30)
    assert jobs.mail_comment_news() == 0  # told within the hour
    frozen_clock.advance(minutes=31)
    assert jobs.mail_comment_news() == 1
    assert "The table has answered." in mailbox[-1].body
    assert jobs.mail_comment_news() == 0  # nothing new


def test_no_mail_without_the_opt_in(scene, mailbox):
    scene.author.mail_on_comments = False
    comments.post_comment(scene.neighbour, _idea(scene), "Hello", limits=NO_LIMIT)
    db.session.commit()
    assert jobs.mail_comment_news() == 0
    assert not [m for m in mailbox if m.to == "author@example.org"]


def test_a_deleted_idea_takes_its_comments_with_it_and_a_deleted_author_stays_a_resident(
        scene):
    comment = comments.post_comment(scene.neighbour, _idea(scene), "Hello")
    db.session.commit()
    db.session.delete(scene.neighbour)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).author_id is None


def test_the_task_queue_runs_the_comment_mail_every_minute(app, scene, mailbox):
    comments.post_comment(scene.neighbour, _idea(scene), "Hello", limits=NO_LIMIT)
    db.session.commit()
    tasks = app.extensions["pb_vote_tasks"]["tasks"]
    tasks["comment_mail"]()  # the queue runs it in the caller in the tests' immediate mode
    assert [m.subject for m in mailbox if m.to == "author@example.org"] == [
        "New comments on “Benches by the lake”"]
