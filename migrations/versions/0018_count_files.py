"""A count refers to the .pb file it stored (``counts.ballots_file_id``, a stored file kept
once per content) instead of holding the text of its own copy: a city's .pb is megabytes,
and publishing a count published a second copy of the same bytes. Counts made before keep
their text (``ballots_pb``), and publishing one of them stores its file as before. The
downgrade writes each count's file back into its text before it drops the reference.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ballots_file_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_counts_ballots_file_id_stored_files"),
                                    "stored_files", ["ballots_file_id"], ["id"])


def downgrade():
    bind = op.get_bind()
    for count_id, file_id in bind.execute(sa.text(
            "SELECT id, ballots_file_id FROM counts "
            "WHERE ballots_pb IS NULL AND ballots_file_id IS NOT NULL")).all():
        parts = bind.execute(sa.text(
            "SELECT data FROM stored_file_slices WHERE file_id = :file "
            "AND encoding = 'identity' ORDER BY number"), {"file": file_id}).scalars()
        bind.execute(sa.text("UPDATE counts SET ballots_pb = :text WHERE id = :id"),
                     {"text": b"".join(bytes(part) for part in parts).decode(), "id": count_id})
    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_counts_ballots_file_id_stored_files"),
                                 type_="foreignkey")
        batch_op.drop_column("ballots_file_id")
