"""Content in three languages: a table has a main language (Finnish or Swedish), tables and
rounds keep translations of their texts (and a round of its categories) in a JSON column,
and a proposal records the language its author wrote in. Nothing moves: the existing names,
titles and descriptions stay in their columns as the main language's text, every table's
main language is Finnish, and so is every existing proposal's. The downgrade drops the
translations and keeps the main-language text.

The columns are added in place (never by copying the table: on SQLite that would drop the
triggers of rounds and proposals), with their checks written into the column on SQLite.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHECKED = (
    ("partnership_tables", "main_language", "ck_partnership_tables_main_language_known",
     "main_language IN ('fi', 'sv')"),
    ("proposals", "language", "ck_proposals_language_known",
     "language IN ('fi', 'sv', 'en')"),
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, name, condition in CHECKED:
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(2) DEFAULT 'fi' "
                       f"NOT NULL CONSTRAINT {name} CHECK ({condition})")
        else:
            op.add_column(table, sa.Column(column, sa.String(length=2), server_default="fi",
                                           nullable=False))
            op.create_check_constraint(name, table, condition)
    for table in ("partnership_tables", "rounds"):
        op.add_column(table, sa.Column("translations", sa.JSON(), server_default="{}",
                                       nullable=False))


def downgrade():
    for table in ("rounds", "partnership_tables"):
        op.drop_column(table, "translations")
    for table, column, _name, _condition in reversed(CHECKED):
        op.drop_column(table, column)
