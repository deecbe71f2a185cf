"""Flask commands: the demo, city admins, the audit check."""

import pytest
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalOrigin, Round, RoundPhase, Table, User
from pb_vote.services.accounts import admit_staff_attempt, authenticate_staff


def signed_in(email: str, password: str) -> User | None:
    """The staff account that signs in with this email and password, as the page does."""
    return authenticate_staff(email, password, admit_staff_attempt(email, 10))


def test_seed_demo_builds_four_tables_with_rounds_in_several_phases(app, runner):
    app.config["ENV_NAME"] = "development"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output and "pb-vote-demo-2026" in result.output
    with app.app_context():
        tables = db.session.execute(select(Table.slug).order_by(Table.slug)).scalars().all()
        assert tables == ["etela", "ita", "keskusta", "pohjoinen"]
        phases = set(db.session.execute(select(Round.phase)).scalars())
        assert {RoundPhase.DRAFT, RoundPhase.PROPOSALS, RoundPhase.REVIEW,
                RoundPhase.VOTING} <= phases
        origins = set(db.session.execute(select(Proposal.origin)).scalars())
        assert origins == set(ProposalOrigin)
        admin = signed_in("admin@example.org", "pb-vote-demo-2026")
        assert admin is not None and admin.is_city_admin


def test_seed_demo_if_empty_leaves_existing_data_alone(app, runner):
    app.config["ENV_NAME"] = "development"
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "already has data" in again.output
    assert "admin@example.org" in again.output  # the sign-in details are printed every time
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Table)).scalar() == 4
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code != 0


def test_seed_demo_refuses_outside_development(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "PB_VOTE_ENV_NAME=development" in result.output


def test_create_admin(app, runner):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.org"], input="a long admin password\n" * 2
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email == "boss@example.org" and user.is_city_admin
        assert signed_in("boss@example.org", "a long admin password") is not None
    verified = runner.invoke(args=["verify-audit"])
    assert verified.exit_code == 0 and "intact: 1 events" in verified.output


def test_create_admin_explains_bad_input(app, runner):
    bad_email = runner.invoke(args=["create-admin", "not-an-email"], input=("x" * 20 + "\n") * 2)
    assert bad_email.exit_code != 0 and "not an email address" in bad_email.output
    short = runner.invoke(args=["create-admin", "a@example.org"], input="short\nshort\n")
    assert short.exit_code != 0 and "shorter than 12" in short.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0


def test_a_key_rotation_reseals_every_ballot_and_retires_the_old_key(app, runner):
    from pb_vote.services import voting
    from pb_vote.services.ballot_box import BallotKeyError, VoteKeys, new_key
    from tests import factories

    with app.app_context():
        scenario = factories.voting_round(ballots=4)
        round_id = scenario.round.id
        db.session.commit()
        old_keys = VoteKeys.from_config(app.config)
        before = sorted(map(str, voting.counted_choices(old_keys, round_id)))
    old = app.config["BALLOT_KEYS"]
    app.config["BALLOT_KEYS"] = [new_key(), *old]  # the new key first; the old still opens
    result = runner.invoke(args=["reseal-ballots"])
    assert result.exit_code == 0, result.output
    assert "4 ballots sealed again" in result.output
    app.config["BALLOT_KEYS"] = app.config["BALLOT_KEYS"][:1]  # the old key is retired
    with app.app_context():
        new_keys = VoteKeys.from_config(app.config)
        assert sorted(map(str, voting.counted_choices(new_keys, round_id))) == before
        with pytest.raises(BallotKeyError, match="not configured"):
            voting.counted_choices(old_keys, round_id)
    assert "0 ballots" in runner.invoke(args=["reseal-ballots"]).output


def test_create_admin_on_an_empty_database_says_where_to_sign_in(app, runner):
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Table)).scalar() == 0
    result = runner.invoke(args=["create-admin", "first@city.example"],
                           env={"PB_VOTE_ADMIN_PASSWORD": "a long admin password"})
    assert result.exit_code == 0, result.output
    assert "/staff/sign-in" in result.output and "/admin/tables" in result.output


def test_create_admin_can_mail_a_link_to_choose_the_password(app, runner, client, mailbox):
    from tests.conftest import link_in

    result = runner.invoke(args=["create-admin", "first@city.example", "--mail-link"])
    assert result.exit_code == 0, result.output
    assert "mailed" in result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.is_city_admin and user.password_hash is None
    [mail] = [m for m in mailbox if m.to == "first@city.example"]
    client.get(link_in(mail.body))
    chosen = client.post("/password/new", data={"password": "the first admin's own",
                                                "confirm": "the first admin's own"})
    assert chosen.status_code == 303
    page = client.get("/manage").text
    assert 'href="/admin/tables"' in page
    with app.app_context():
        assert signed_in("first@city.example", "the first admin's own") is not None
