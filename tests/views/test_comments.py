"""Comments on the proposal page: who may post, answer as the table, report and hide;
hidden text gone from the public HTML; the phase rules; the account's mail opt-in."""

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import Comment, CommentReport, HiddenReason, Proposal, RoundPhase, User
from pb_vote.services import comments
from pb_vote.services.comments import CommentLimits
from tests import factories

NO_LIMIT = CommentLimits(per_window=1000, interval=__import__("datetime").timedelta(0))


@pytest.fixture
def scene(app):
    app.config.update(COMMENT_INTERVAL_SECONDS=0)
    with app.app_context():
        built = factories.comment_scene()
        db.session.commit()
        return {"proposal": built.proposal_id, "round": built.round_id}


def _page(client, scene):
    return client.get(f"/proposals/{scene['proposal']}")


def _post(client, scene, body, **fields):
    return client.post(f"/proposals/{scene['proposal']}/comments",
                       data={"body": body, **fields})


def _comment(app, scene, email="neighbour@example.org", body="Lovely idea") -> int:
    with app.app_context():
        person = db.session.execute(select(User).where(User.email == email)).scalar_one()
        made = comments.post_comment(person, db.session.get(Proposal, scene["proposal"]),
                                     body, limits=NO_LIMIT)
        db.session.commit()
        return made.id


def test_not_signed_in_sees_comments_and_cannot_post(app, client, scene):
    _comment(app, scene)
    page = _page(client, scene).text
    assert "Lovely idea" in page and "Sign in to comment" in page
    assert 'id="comment-form"' not in page
    answer = _post(client, scene, "Anonymous words")
    assert answer.status_code in (302, 401)
    with app.app_context():
        assert db.session.execute(select(Comment.body)).scalars().all() == ["Lovely idea"]


def test_a_resident_of_another_area_comments_with_or_without_name(app, client, auth, scene):
    auth.resident("neighbour@example.org")
    answer = _post(client, scene, "I walk there every day", show_name="y")
    assert answer.status_code == 303
    page = client.get(answer.location).text
    assert "I walk there every day" in page and "Neighbour" in page
    _post(client, scene, "Second thought")  # show_name unticked
    with app.app_context():
        shown = db.session.execute(select(Comment.show_name).order_by(Comment.id)).scalars()
        assert list(shown) == [True, False]


def test_a_refused_comment_keeps_the_text_and_says_why(app, client, auth, scene):
    auth.resident("neighbour@example.org")
    answer = _post(client, scene, "x" * 2001)
    assert answer.status_code == 400
    assert "Use at most 2000 characters." in answer.text
    assert "x" * 2001 in answer.text


def test_the_rate_limit_answers_429_with_the_text_kept(app, client, auth, scene):
    app.config.update(COMMENT_INTERVAL_SECONDS=60)
    auth.resident("neighbour@example.org")
    assert _post(client, scene, "First").status_code == 303
    answer = _post(client, scene, "Second too soon")
    assert answer.status_code == 429
    assert "You are commenting very fast" in answer.text and "Second too soon" in answer.text


def test_the_table_answers_as_the_table_and_the_public_does_not_see_the_member(
        app, client, auth, scene):
    auth.staff("member@example.org")
    assert 'name="as_table"' in _page(client, scene).text
    assert _post(client, scene, "We will measure the shore.", as_table="y").status_code == 303
    auth.sign_out()
    page = _page(client, scene).text
    assert "The table answers" in page and "Keskusta – Centre" in page
    assert "Member" not in page.split('id="comments"')[1]
    with app.app_context():
        comment = db.session.execute(select(Comment)).scalar_one()
        assert comment.as_table and comment.author.email == "member@example.org"


def test_a_member_of_another_table_cannot_answer_as_this_table_nor_hide(
        app, client, auth, scene):
    comment_id = _comment(app, scene)
    auth.staff("outsider@example.org")
    assert 'name="as_table"' not in _page(client, scene).text
    assert _post(client, scene, "We say", as_table="y").status_code == 403
    assert client.get(f"/manage/comments/{comment_id}/hide").status_code == 403
    assert client.post(f"/manage/comments/{comment_id}/hide",
                       data={"reason": "spam"}).status_code == 403
    assert client.get(f"/manage/rounds/{scene['round']}/comments").status_code == 403
    with app.app_context():
        assert not db.session.get(Comment, comment_id).is_hidden


def test_a_resident_reports_once_and_a_member_hides_with_a_reason(app, client, auth, scene):
    comment_id = _comment(app, scene, body="Buy cheap watches here")
    auth.resident("resident@example.org")
    report = f"/comments/{comment_id}/report"
    assert "Report the comment" in client.get(report).text
    assert client.post(report, data={"reason": "Spam"}).status_code == 303
    again = client.get(report).text
    assert "You have already reported this comment." in again
    assert client.post(report, data={"reason": "Again"}).status_code == 200
    with app.app_context():
        assert db.session.execute(select(CommentReport.reason)).scalars().all() == ["Spam"]
    auth.sign_out()
    auth.staff("member@example.org")
    listed = client.get(f"/manage/rounds/{scene['round']}/comments").text
    assert "Buy cheap watches here" in listed and "1 report" in listed
    assert "Reported comments" in client.get(
        f"/manage/rounds/{scene['round']}/proposals").text
    answer = client.post(f"/manage/comments/{comment_id}/hide",
                         data={"reason": "spam", "note": "Advert"})
    assert answer.status_code == 303
    assert "No reported comments are waiting." in client.get(answer.location).text
    auth.sign_out()
    page = _page(client, scene).text
    assert "Buy cheap watches here" not in page
    assert "Hidden by the moderators: Spam or advertising." in page
    with app.app_context():
        assert db.session.get(Comment, comment_id).hidden_reason is HiddenReason.SPAM


def test_hiding_needs_a_known_reason(app, client, auth, scene):
    comment_id = _comment(app, scene)
    auth.staff("member@example.org")
    answer = client.post(f"/manage/comments/{comment_id}/hide", data={"reason": "boring"})
    assert answer.status_code == 400 and "Not a valid choice" in answer.text


@pytest.mark.parametrize("phase", [RoundPhase.VOTING, RoundPhase.PUBLISHED])
def test_after_review_comments_are_read_only(app, client, auth, scene, phase):
    _comment(app, scene)
    with app.app_context():
        proposal = db.session.get(Proposal, scene["proposal"])
        proposal.round.phase = phase
        db.session.commit()
    auth.resident("neighbour@example.org")
    page = _page(client, scene).text
    assert "Lovely idea" in page and "Comments are closed" in page
    assert 'id="comment-form"' not in page
    answer = _post(client, scene, "Too late")
    assert answer.status_code == 409 and "Comments on this idea are closed." in answer.text


def test_a_withdrawn_ideas_comments_are_not_public(app, client, auth, scene):
    comment_id = _comment(app, scene)
    with app.app_context():
        proposal = db.session.get(Proposal, scene["proposal"])
        proposal.status = "withdrawn"
        db.session.commit()
    page = _page(client, scene)
    assert page.status_code == 410 and "Lovely idea" not in page.text
    auth.resident("neighbour@example.org")
    assert client.get(f"/comments/{comment_id}/report").status_code == 404
    assert _post(client, scene, "Hello?").status_code == 404


def test_comment_mail_is_off_by_default_and_set_in_its_own_form(app, client, auth, scene):
    auth.resident("neighbour@example.org")
    page = client.get("/account").text
    assert 'id="comment-mail"' in page
    assert 'name="mail_on_comments" type="checkbox" value="y">' in page.replace(
        ' checked', ' CHECKED')
    answer = client.post("/account/comment-mail", data={"mail_on_comments": "y"})
    assert answer.status_code == 303
    with app.app_context():
        person = db.session.execute(select(User).where(
            User.email == "neighbour@example.org")).scalar_one()
        assert person.mail_on_comments
    client.post("/account/comment-mail", data={})
    with app.app_context():
        db.session.expire_all()
        assert not db.session.get(User, person.id).mail_on_comments


def test_comments_stay_out_of_the_open_data_and_the_pb_export(app, client):
    with app.app_context():
        built = factories.published_round(ballots=12)
        db.session.add(Comment(proposal_id=built.proposal_ids[0], body="Words of a comment",
                               author=built.voters[0]))
        db.session.commit()
        round_id = built.round_id
    for path in (f"/api/v1/rounds/{round_id}/proposals", f"/api/v1/rounds/{round_id}/results",
                 f"/api/v1/rounds/{round_id}/ballots.pb",
                 f"/api/v1/rounds/{round_id}/results.csv"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "Words of a comment" not in answer.text
    assert "Words of a comment" in client.get(f"/proposals/{built.proposal_ids[0]}").text
