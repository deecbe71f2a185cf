"""Store a publication apart from its receipts and its files: a publication row keeps the
summary, every project's figures and turnout; the receipt hashes move to ``receipt_sets``
and ``published_receipts`` (one row per hash, stored once per set of ballots and shared by
the corrections of the same ballots); the .pb file and the receipts download become stored
files (``stored_files``, ``stored_file_slices``: slices as they are and raw-DEFLATE
compressed, each content once). Every table of them refuses updates and deletes, as
publications do.

Existing publications are converted, keeping their receipts in their shuffled order and
their .pb files byte for byte; the downgrade puts them back. The storage format is that of
pb_vote/services/files.py and pb_vote/services/results.py at this revision, written out
here so this migration stays as it was.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import hashlib
import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SLICE_SIZE = 256 * 1024
RECEIPT_HASH = "sha256 of the code without dashes, upper case"
MESSAGE = "publications are immutable"
FROZEN = ("stored_files", "stored_file_slices", "receipt_sets", "published_receipts")

files = sa.table("stored_files", sa.column("id"), sa.column("digest"), sa.column("size"),
                 sa.column("deflated_size"), sa.column("crc32"), sa.column("slice_size"))
slices = sa.table("stored_file_slices", sa.column("file_id"), sa.column("encoding"),
                  sa.column("number"), sa.column("data", sa.LargeBinary()))
receipt_sets = sa.table("receipt_sets", sa.column("id"), sa.column("round_id"),
                        sa.column("digest"), sa.column("receipt_count"), sa.column("file_id"))
receipts = sa.table("published_receipts", sa.column("receipt_set_id"),
                    sa.column("receipt_hash"))


def _triggers(dialect: str, table: str) -> list[str]:
    """Triggers refusing updates and deletes (for publications, those of 0004)."""
    if dialect == "postgresql":
        return [f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION publications_immutable()"""]
    return [f"""CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
            for event in ("UPDATE", "DELETE")]


def _drop_triggers(dialect: str, table: str) -> None:
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER {table}_no_change ON {table}")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{event}")


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _store(bind, data: bytes) -> int:
    """The id of the stored file holding ``data`` (stored now unless it already was)."""
    digest = hashlib.sha256(data).hexdigest()
    found = bind.execute(sa.select(files.c.id).where(files.c.digest == digest)).scalar()
    if found is not None:
        return found
    packed = _deflated(data)
    file_id = bind.execute(files.insert().values(
        digest=digest, size=len(data), deflated_size=len(packed), crc32=zlib.crc32(data),
        slice_size=SLICE_SIZE).returning(files.c.id)).scalar_one()
    for encoding, content in (("identity", data), ("deflate", packed)):
        parts = [content[at:at + SLICE_SIZE] for at in range(0, len(content), SLICE_SIZE)]
        bind.execute(slices.insert(), [
            {"file_id": file_id, "encoding": encoding, "number": number, "data": part}
            for number, part in enumerate(parts or [b""])])
    return file_id


def _receipt_set(bind, round_id: int, hashes: list[str]) -> int:
    """The id of the round's receipt set of ``hashes`` (in their published order)."""
    digest = hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
    found = bind.execute(sa.select(receipt_sets.c.id).where(
        receipt_sets.c.round_id == round_id, receipt_sets.c.digest == digest)).scalar()
    if found is not None:
        return found
    head = (b'{"hash":' + json.dumps(RECEIPT_HASH).encode() + b',"receipts":'
            + json.dumps(hashes, separators=(",", ":")).encode())
    set_id = bind.execute(receipt_sets.insert().values(
        round_id=round_id, digest=digest, receipt_count=len(hashes),
        file_id=_store(bind, head)).returning(receipt_sets.c.id)).scalar_one()
    for start in range(0, len(hashes), 10_000):
        bind.execute(receipts.insert(), [{"receipt_set_id": set_id, "receipt_hash": value}
                                         for value in hashes[start:start + 10_000]])
    return set_id


def _read(bind, file_id: int) -> bytes:
    return b"".join(bytes(part) for part in bind.execute(
        sa.select(slices.c.data).where(slices.c.file_id == file_id,
                                       slices.c.encoding == "identity")
        .order_by(slices.c.number)).scalars())


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("deflated_size", sa.BigInteger(), nullable=False),
        sa.Column("crc32", sa.BigInteger(), nullable=False),
        sa.Column("slice_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("digest", name=op.f("uq_stored_files_digest")),
    )
    op.create_table(
        "stored_file_slices",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["stored_files.id"],
                                name=op.f("fk_stored_file_slices_file_id_stored_files")),
        sa.PrimaryKeyConstraint("file_id", "encoding", "number",
                                name=op.f("pk_stored_file_slices")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "receipt_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("receipt_count", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["stored_files.id"],
                                name=op.f("fk_receipt_sets_file_id_stored_files")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_receipt_sets_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_sets")),
        sa.UniqueConstraint("round_id", "digest", name="one_set_per_content"),
    )
    op.create_index(op.f("ix_receipt_sets_round_id"), "receipt_sets", ["round_id"])
    op.create_table(
        "published_receipts",
        sa.Column("receipt_set_id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["receipt_set_id"], ["receipt_sets.id"],
                                name=op.f("fk_published_receipts_receipt_set_id_receipt_sets")),
        sa.PrimaryKeyConstraint("receipt_set_id", "receipt_hash",
                                name=op.f("pk_published_receipts")),
        sqlite_with_rowid=False,
    )
    if dialect == "postgresql":
        # Half the slices are compressed already: TOAST keeps them as they are.
        op.execute("ALTER TABLE stored_file_slices ALTER COLUMN data SET STORAGE EXTERNAL")

    _drop_triggers(dialect, "publications")
    with op.batch_alter_table("publications") as batch_op:
        batch_op.add_column(sa.Column("receipt_set_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ballots_file_id", sa.Integer(), nullable=True))
    # One publication at a time: a city's receipts and ballots are megabytes each.
    for publication_id, round_id in bind.execute(sa.text(
            "SELECT id, round_id FROM publications ORDER BY id")).all():
        hashes, pb = bind.execute(sa.text(
            "SELECT receipts, ballots_pb FROM publications WHERE id = :id"),
            {"id": publication_id}).one()
        if isinstance(hashes, str | bytes):
            hashes = json.loads(hashes)
        bind.execute(sa.text(
            "UPDATE publications SET receipt_set_id = :receipts, ballots_file_id = :pb "
            "WHERE id = :id"),
            {"receipts": _receipt_set(bind, round_id, list(hashes)),
             "pb": _store(bind, pb.encode()), "id": publication_id})
    with op.batch_alter_table("publications", recreate="always") as batch_op:
        batch_op.alter_column("receipt_set_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("ballots_file_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_publications_receipt_set_id_receipt_sets"), "receipt_sets",
            ["receipt_set_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_publications_ballots_file_id_stored_files"), "stored_files",
            ["ballots_file_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_publications_receipt_set_id"),
                              ["receipt_set_id"], unique=False)
        batch_op.drop_column("receipts")
        batch_op.drop_column("ballots_pb")
    for table in ("publications", *FROZEN):  # SQLite drops a table's triggers with its copy
        for statement in _triggers(dialect, table):
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in (*FROZEN, "publications"):
        _drop_triggers(dialect, table)
    with op.batch_alter_table("publications") as batch_op:
        batch_op.add_column(sa.Column("receipts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ballots_pb", sa.Text(), nullable=True))
    put_back = sa.text(
        "UPDATE publications SET receipts = :receipts, ballots_pb = :pb WHERE id = :id"
    ).bindparams(sa.bindparam("receipts", type_=sa.JSON()))
    for publication_id, set_id, pb_id in bind.execute(sa.text(
            "SELECT id, receipt_set_id, ballots_file_id FROM publications ORDER BY id")).all():
        file_id = bind.execute(sa.select(receipt_sets.c.file_id).where(
            receipt_sets.c.id == set_id)).scalar_one()
        hashes = json.loads(_read(bind, file_id) + b"}")["receipts"]
        bind.execute(put_back, {"receipts": hashes, "pb": _read(bind, pb_id).decode(),
                                "id": publication_id})
    with op.batch_alter_table("publications", recreate="always") as batch_op:
        batch_op.alter_column("receipts", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("ballots_pb", existing_type=sa.Text(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_publications_receipt_set_id"))
        batch_op.drop_constraint(batch_op.f("fk_publications_receipt_set_id_receipt_sets"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_publications_ballots_file_id_stored_files"),
                                 type_="foreignkey")
        batch_op.drop_column("receipt_set_id")
        batch_op.drop_column("ballots_file_id")
    for statement in _triggers(dialect, "publications"):
        op.execute(statement)
    op.drop_table("published_receipts")
    op.drop_index(op.f("ix_receipt_sets_round_id"), table_name="receipt_sets")
    op.drop_table("receipt_sets")
    op.drop_table("stored_file_slices")
    op.drop_table("stored_files")
