"""The service's own pages as the city admin writes them: ``service_page_versions`` keeps
every saved text of each page (about, contact, privacy, accessibility) in each language,
with who saved it and when; a version without a text goes back to the built-in page.
Nothing existing changes: with no versions, every page shows its built-in text as before.

Versions are never altered or deleted: triggers refuse it (an account deleted later only
clears ``saved_by_id``, which the triggers allow). The downgrade drops the table, and with
it the texts the admin wrote.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

KEPT_COLUMNS = "page, language, body, saved_at"
MESSAGE = "service_page_versions keeps every version"
TRIGGERS_SQLITE = [
    f"""CREATE TRIGGER service_page_versions_no_update BEFORE UPDATE OF {KEPT_COLUMNS}
       ON service_page_versions BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER service_page_versions_no_delete BEFORE DELETE ON service_page_versions
       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
TRIGGERS_POSTGRESQL = [
    f"""CREATE FUNCTION service_page_versions_kept() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    f"""CREATE TRIGGER service_page_versions_no_update BEFORE UPDATE OF {KEPT_COLUMNS}
       ON service_page_versions FOR EACH ROW EXECUTE FUNCTION service_page_versions_kept()""",
    """CREATE TRIGGER service_page_versions_no_delete BEFORE DELETE ON service_page_versions
       FOR EACH ROW EXECUTE FUNCTION service_page_versions_kept()""",
]


def upgrade():
    op.create_table(
        "service_page_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("page IN ('about', 'contact', 'privacy', 'accessibility')",
                           name=op.f("ck_service_page_versions_page_known")),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')",
                           name=op.f("ck_service_page_versions_language_known")),
        sa.CheckConstraint("body IS NULL OR length(body) <= 40000",
                           name=op.f("ck_service_page_versions_body_not_too_long")),
        sa.ForeignKeyConstraint(["saved_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_service_page_versions_saved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_page_versions")),
    )
    with op.batch_alter_table("service_page_versions", schema=None) as batch_op:
        batch_op.create_index("ix_service_page_versions_page_language",
                              ["page", "language", "id"], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in TRIGGERS_POSTGRESQL if postgresql else TRIGGERS_SQLITE:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in ("service_page_versions_no_update", "service_page_versions_no_delete"):
        op.execute(f"DROP TRIGGER {trigger}" + (" ON service_page_versions" if postgresql
                                                 else ""))
    if postgresql:
        op.execute("DROP FUNCTION service_page_versions_kept()")
    with op.batch_alter_table("service_page_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_service_page_versions_page_language")
    op.drop_table("service_page_versions")
