"""Flask commands: ``flask --app pb_vote seed-demo``, ``create-admin``, ``verify-audit``,
``advance-phases``, ``send-mail``."""

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from pb_vote.extensions import db
from pb_vote.services.ballot_box import VoteKeys


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only seed when there is no table yet.")
@click.option("--force", is_flag=True, help="Allow seeding outside the development config.")
def seed_demo_command(if_empty: bool, force: bool) -> None:
    """Load the demo data and print the demo sign-in details."""
    from pb_vote import demo

    if current_app.config["ENV_NAME"] != "development" and not force:
        raise click.ClickException(
            "seed-demo creates accounts with a published password; run it with "
            "PB_VOTE_ENV_NAME=development, or add --force if you really mean it."
        )
    if not demo.database_is_empty():
        if not if_empty:
            raise click.ClickException("the database already has data; nothing was changed")
        click.echo("The database already has data; the demo was not loaded again.")
    else:
        seeded = demo.seed_demo(VoteKeys.from_config(current_app.config))
        db.session.commit()
        click.echo("Demo data loaded: four partnership tables with rounds in different phases.")
        where = f"/rounds/{seeded['voting_round']}/code"
        click.echo(f"\nVoting codes for the round in voting ({where}); shown only now:")
        for code in seeded["codes"]:
            click.echo(f"  {code}")
        click.echo("\nStrongly identified residents only: "
                   f"/rounds/{seeded['identified_round']}/vote")
    click.echo("\nDemo sign-in (staff: /staff/sign-in, residents: /sign-in):")
    for account in demo.DEMO_ACCOUNTS:
        click.echo(f"  {account.role:<30} {account.email:<26} {account.how}")
    if current_app.config.get("IDENTITY_PROVIDERS"):
        click.echo("\nStrong identification (/sign-in, then the identity provider's page: "
                   "type the name, any password):")
        for name, about in demo.DEMO_PERSONS:
            click.echo(f"  {name:<8} {about}")
    mode = current_app.config["STAFF_SECOND_FACTOR"]
    if mode != "off":
        who = ("the city admin and the coordinator set up a second factor at their first "
               "sign-in" if mode == "required" else "staff may set up a second factor on "
               "/staff/second-factor/settings")
        click.echo(
            f"\nSecond factor (STAFF_SECOND_FACTOR={mode}): {who}. Scan the QR code with an "
            "authenticator app, or copy the key shown under it and print its current code "
            "with:\n  .venv/bin/python -c \"import pyotp, sys; "
            "print(pyotp.TOTP(sys.argv[1].replace(' ', '')).now())\" 'KEY'\n"
            "(PB_VOTE_STAFF_SECOND_FACTOR=optional make run: no second factor unless set up.)")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--password", envvar="PB_VOTE_ADMIN_PASSWORD",
              help="At least 12 characters; asked for when neither given nor --mail-link.")
@click.option("--mail-link", is_flag=True,
              help="Mail the person a one-time link to choose their own password instead.")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="fi",
              show_default=True, help="The language of a new account's pages and mail.")
def create_admin_command(email: str, password: str | None, mail_link: bool,
                         language: str) -> None:
    """Create a city administrator (or make an existing account one), with a password
    typed here or chosen by the person through a mailed link. Works on an empty database:
    the first admin then sets up the partnership tables in the browser."""
    from email_validator import EmailNotValidError, validate_email

    from pb_vote import notifications
    from pb_vote.models import TokenPurpose
    from pb_vote.services import accounts
    from pb_vote.urls import public_url

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.ClickException(f"not an email address: {error}") from None
    if password is None and not mail_link:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user, created = accounts.get_or_create_resident(email, language)
    if password is not None:
        try:
            accounts.set_password(user, password)
        except ValueError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
    accounts.make_city_admin(user)
    if mail_link:
        notifications.one_time_link(user.email, TokenPurpose.SET_PASSWORD)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} city admin {user.email}.")
    if mail_link:
        click.echo("A link to choose a password was mailed (it works once, for 24 hours; "
                   "the task worker sends it, or `flask --app pb_vote send-mail`).")
    click.echo(f"Sign in on {public_url('auth.staff_sign_in')}, then set up the partnership "
               f"tables on {public_url('admin.tables')}.")


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check the audit trail's hash chain; exit 1 when it is broken."""
    from pb_vote.services.audit import verify_chain

    check = verify_chain()
    if check.intact:
        click.echo(f"Audit trail intact: {check.events_checked} events.")
    else:
        click.echo(f"Audit trail BROKEN at event {check.first_broken_id}.", err=True)
        raise SystemExit(1)


@click.command("advance-phases")
@with_appcontext
def advance_phases_command() -> None:
    """Move every open round to the phase its schedule says, and store the reminders before
    voting closes that are due (run it from cron each minute)."""
    from datetime import timedelta

    from pb_vote import clock
    from pb_vote.services.notices import plan_due_reminders
    from pb_vote.services.rounds import advance_all

    moved = advance_all()
    reminded = plan_due_reminders(clock.utcnow(), timedelta(
        hours=float(current_app.config["VOTING_REMINDER_HOURS_BEFORE_CLOSE"])))
    db.session.commit()
    for round_id, phases in moved.items():
        click.echo(f"round {round_id}: {' -> '.join(p.value for p in phases)}")
    click.echo(f"{len(moved)} round(s) moved.")
    for round_id in reminded:
        click.echo(f"round {round_id}: reminders before voting closes")


@click.command("send-mail")
@with_appcontext
@click.option("--every", type=click.IntRange(min=1), metavar="SECONDS",
              help="Keep running, sending what is due every SECONDS.")
def send_mail_command(every: int | None) -> None:
    """Send the queued mail that is due (from cron each minute, or --every as a service)."""
    from pb_vote.mail import deliver_due, forget_given_up

    while True:
        report = deliver_due()
        forgotten = forget_given_up()
        click.echo(f"{report.sent} sent, {report.failed} failed (tried again later), "
                   f"{report.waiting} waiting, {report.given_up} given up"
                   + (f", {forgotten} given-up message(s) deleted" if forgotten else "")
                   + ".")
        if every is None:
            break
        time.sleep(every)
    if report.given_up:
        raise SystemExit(1)


@click.command("reseal-ballots")
@with_appcontext
def reseal_ballots_command():
    """Seal every ballot with the first of BALLOT_KEYS (after a key rotation), so the keys
    after it can be retired once this has run."""
    from pb_vote.services import voting

    count = voting.reseal_ballots(VoteKeys.from_config(current_app.config))
    db.session.commit()
    click.echo(f"{count} ballots sealed again with the first key of BALLOT_KEYS.")


IMPORT_REFUSALS = {  # what the command says for each ImportRefused code (an operator's tool)
    "amount_below_a_cent": "an amount has a fraction of a cent, which a round cannot hold",
    "no_projects": "the file has no projects, so its round could never open for voting",
}


@click.command("import-pabulib")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--table", "slug", required=True, help="The slug of the table to import into.")
@click.option("--title", help="The round's title (default: the file's name).")
def import_pabulib_command(path: str, slug: str, title: str | None) -> None:
    """Create a closed round from a Pabulib file: its projects as accepted proposals, its
    votes as anonymous sealed ballots (channel import), ready to count and publish."""
    from pathlib import Path

    from pb_vote.services import catalog
    from pb_vote.services.imports import ImportRefused, import_election
    from pb_vote.tally import PabulibError, read_pabulib

    table = catalog.table_by_slug(slug)
    if table is None:
        raise click.ClickException(f"no table {slug!r}")
    try:
        election = read_pabulib(path)
    except PabulibError as error:
        raise click.ClickException(f"{path}: {error}") from None
    try:
        round_ = import_election(election, table, VoteKeys.from_config(current_app.config),
                                 title or Path(path).stem)
    except ImportRefused as refused:
        db.session.rollback()
        raise click.ClickException(f"{path}: {IMPORT_REFUSALS[refused.code]}") from None
    db.session.commit()
    click.echo(f"round {round_.id}: {len(election.projects)} proposals, "
               f"{len(election.ballots)} votes, closed; count it on "
               f"/manage/rounds/{round_.id}/results")


@click.command("reset-second-factor")
@with_appcontext
@click.argument("email")
@click.option("--reason", required=True, help="Why, for the audit trail.")
def reset_second_factor_command(email: str, reason: str) -> None:
    """Remove a staff member's second factor (audited, by the system): for a city admin
    who lost phone and recovery codes with no other admin to reset it, or lost keys."""
    from pb_vote import notifications
    from pb_vote.services import accounts, second_factor

    user = accounts.find_user_by_email(email)
    if user is None or not user.is_staff:
        raise click.ClickException(f"no staff account has the address {email}")
    try:
        second_factor.reset(None, user, reason)
    except second_factor.ResetRefused:
        raise click.ClickException("give a reason with --reason") from None
    notifications.second_factor_changed(user, "reset")
    db.session.commit()
    click.echo(f"The second factor of {user.email} is reset; the next sign-in sets it up.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (seed_demo_command, create_admin_command, verify_audit_command,
                    advance_phases_command, send_mail_command, reseal_ballots_command,
                    import_pabulib_command, reset_second_factor_command):
        app.cli.add_command(command)
