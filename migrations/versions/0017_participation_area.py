"""Where a signed-in resident voted from, for the statistics after a round: a participation
records the home postal code and the account language its person had when they first voted
in the round (``postal_code``, ``language``), written by the database at the insert (a
trigger, so every way a vote is written records it, and the vote's own statement is
untouched). Codes and paper ballots record neither: nobody is asked. The figures outlive a
later move; a deleted account takes them along (a second trigger clears them when the
participation loses its person), as the privacy notice promises that the account's postal
code and language go with it.

Participations written before this revision get the postal code and language their
person's account has now (none when the account is gone): the nearest there is. The
columns are added in place (copying the table would drop its turnout triggers on SQLite).
Each postal code of a table's area may record how many of its residents may vote
(``table_postal_codes.eligible_residents``), for turnout by area as a share; none is known
yet. The downgrade drops the triggers and the three columns.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_SQLITE_TRIGGER = (
    "CREATE TRIGGER participation_area_on_insert AFTER INSERT ON participations "
    "WHEN NEW.user_id IS NOT NULL AND NEW.postal_code IS NULL BEGIN "
    "UPDATE participations SET "
    "postal_code = (SELECT postal_code FROM users WHERE id = NEW.user_id), "
    "language = (SELECT language FROM users WHERE id = NEW.user_id) "
    "WHERE id = NEW.id; END"
)
# BEFORE INSERT: the row is written once, with its area. It also runs for a vote that turns
# into an update of an earlier participation (ON CONFLICT DO UPDATE), whose update leaves
# the first vote's area as it was.
_POSTGRESQL_FUNCTION = """CREATE FUNCTION participation_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT postal_code, language INTO NEW.postal_code, NEW.language
    FROM users WHERE id = NEW.user_id;
    RETURN NEW;
END $$"""
# The WHEN clause keeps the function from being called at all for codes, paper and imports
# (a bulk import writes 200,000 rows in one statement).
_POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER participation_area_on_insert BEFORE INSERT ON participations "
    "FOR EACH ROW WHEN (NEW.user_id IS NOT NULL AND NEW.postal_code IS NULL) "
    "EXECUTE FUNCTION participation_area()"
)
# Deleting an account sets its participations' user_id to NULL (the foreign key's action,
# which runs these triggers too).
_FORGOTTEN = "OLD.user_id IS NOT NULL AND NEW.user_id IS NULL"
_SQLITE_FORGET = (
    "CREATE TRIGGER participation_area_forgotten AFTER UPDATE OF user_id ON participations "
    f"WHEN {_FORGOTTEN} BEGIN "
    "UPDATE participations SET postal_code = NULL, language = NULL WHERE id = NEW.id; END"
)
_POSTGRESQL_FORGET_FUNCTION = """CREATE FUNCTION participation_area_forgotten()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.postal_code := NULL;
    NEW.language := NULL;
    RETURN NEW;
END $$"""
_POSTGRESQL_FORGET = (
    "CREATE TRIGGER participation_area_forgotten BEFORE UPDATE OF user_id ON participations "
    f"FOR EACH ROW WHEN ({_FORGOTTEN}) EXECUTE FUNCTION participation_area_forgotten()"
)


def upgrade():
    op.add_column("participations", sa.Column("postal_code", sa.String(length=10),
                                              nullable=True))
    op.add_column("participations", sa.Column("language", sa.String(length=5),
                                              nullable=True))
    op.execute(
        "UPDATE participations SET "
        "postal_code = (SELECT postal_code FROM users WHERE users.id = participations.user_id), "
        "language = (SELECT language FROM users WHERE users.id = participations.user_id) "
        "WHERE user_id IS NOT NULL"
    )
    op.add_column("table_postal_codes", sa.Column("eligible_residents", sa.Integer(),
                                                  nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in (_POSTGRESQL_FUNCTION, _POSTGRESQL_TRIGGER,
                          _POSTGRESQL_FORGET_FUNCTION, _POSTGRESQL_FORGET):
            op.execute(statement)
    else:
        op.execute(_SQLITE_TRIGGER)
        op.execute(_SQLITE_FORGET)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("participation_area_on_insert", "participation_area_forgotten"):
            op.execute(f"DROP TRIGGER {name} ON participations")
        op.execute("DROP FUNCTION participation_area()")
        op.execute("DROP FUNCTION participation_area_forgotten()")
    else:
        for name in ("participation_area_on_insert", "participation_area_forgotten"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_column("table_postal_codes", "eligible_residents")
    op.drop_column("participations", "language")
    op.drop_column("participations", "postal_code")
