"""A city sets up its own partnership tables: a table can be retired (``retired_at``: it
takes no new rounds and is not offered to residents, its published results stay), a postal
code belongs to one table's area at most (a unique index, in place of the plain one), and
the database refuses to change the area of a table while one of its rounds is in voting
(the voters' postal codes were checked against it; triggers, as 0009 does for the ballot).

The upgrade stops, naming the codes, when a postal code is already in two tables' areas:
nothing is changed then, and an admin decides which table keeps it. The downgrade drops the
triggers, the unique index (a plain one again) and the column.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

MESSAGE = "the area of a table is fixed while one of its rounds is in voting"
INDEX = "ix_table_postal_codes_postal_code"


def _voting(row: str) -> str:
    return (f"EXISTS (SELECT 1 FROM rounds WHERE rounds.table_id = {row}.table_id "
            f"AND rounds.phase = 'voting')")


def upgrade():
    bind = op.get_bind()
    shared = bind.execute(sa.text(
        "SELECT postal_code FROM table_postal_codes GROUP BY postal_code "
        "HAVING count(*) > 1 ORDER BY postal_code")).scalars().all()
    if shared:
        raise RuntimeError("postal codes in more than one table's area (remove each from "
                           f"all but one table, then upgrade again): {', '.join(shared)}")
    op.add_column("partnership_tables",
                  sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(INDEX, table_name="table_postal_codes")
    op.create_index(INDEX, "table_postal_codes", ["postal_code"], unique=True)
    if bind.dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION table_area_fixed_in_voting() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('UPDATE', 'DELETE') AND {_voting('OLD')} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              IF TG_OP IN ('UPDATE', 'INSERT') AND {_voting('NEW')} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              IF TG_OP = 'DELETE' THEN
                RETURN OLD;
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER table_area_fixed_in_voting
                      BEFORE INSERT OR DELETE OR UPDATE OF postal_code, table_id
                      ON table_postal_codes FOR EACH ROW
                      EXECUTE FUNCTION table_area_fixed_in_voting()""")
    else:
        for event, condition in (("INSERT", _voting("NEW")), ("DELETE", _voting("OLD")),
                                 ("UPDATE OF postal_code, table_id",
                                  f"{_voting('OLD')} OR {_voting('NEW')}")):
            name = event.split()[0].lower()
            op.execute(f"""
                CREATE TRIGGER table_area_fixed_{name} BEFORE {event}
                ON table_postal_codes WHEN {condition}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER table_area_fixed_in_voting ON table_postal_codes")
        op.execute("DROP FUNCTION table_area_fixed_in_voting()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER table_area_fixed_{name}")
    op.drop_index(INDEX, table_name="table_postal_codes")
    op.create_index(INDEX, "table_postal_codes", ["postal_code"], unique=False)
    op.drop_column("partnership_tables", "retired_at")
