"""Seal every ballot: what a ballot chose is stored AES-256-GCM encrypted under a key from
configuration (BALLOT_KEYS), never in plain text, so the database and its backups, dumps and
file copies alone tell nothing of anyone's choices (the storage engine pairs a ballot with the
participation of the same transaction: PostgreSQL's xmin, SQLite's WAL frames).

The ballots already stored are sealed here with the first configured key; the plain
``choices`` column goes with the old table, whose pages SQLite overwrites (secure_delete) and
PostgreSQL unlinks. Backups and WAL taken before this upgrade still hold plain choices:
destroy them once the upgrade is verified. The format is that of
pb_vote/services/ballot_box.py version 1, written out here so this migration stays as it
was: version | key id (first 8 bytes of the key's SHA-256) | nonce | AES-GCM(choices padded
to the round's one length), with "pb_vote ballot v1|round:<id>|voter:<voter key>" as
associated data.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import base64
import hashlib
import json
import secrets

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _keys() -> list[bytes]:
    value = current_app.config["BALLOT_KEYS"]
    texts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    keys = [base64.b64decode(t + "=" * (-len(t) % 4), altchars=b"-_", validate=True)
            for t in texts]
    if not keys or any(len(key) != 32 for key in keys):
        raise RuntimeError("BALLOT_KEYS must hold 32-byte keys to seal the stored ballots")
    return keys


def _associated(round_id: int, voter_key: str) -> bytes:
    return f"pb_vote ballot v1|round:{round_id}|voter:{voter_key}".encode()


def _encode(choices: dict) -> bytes:
    return json.dumps(choices, separators=(",", ":")).encode()


def _sizes(bind) -> dict[int, int]:
    """Each round's padded length: the normal form of its largest allowed ballot."""
    sizes = {}
    rounds = bind.execute(sa.text(
        "SELECT id, ballot_kind, points_max_per_proposal, points_total FROM rounds")).all()
    for round_id, kind, per_proposal, total in rounds:
        ids = sorted(bind.execute(sa.text(
            "SELECT id FROM proposals WHERE round_id = :round AND status = 'accepted'"),
            {"round": round_id}).scalars())
        most = (per_proposal or total or 1) if kind == "points" else 1
        sizes[round_id] = len(_encode({str(pid): most for pid in ids})) if ids else 2
    return sizes


def _seal(key: bytes, choices: dict, round_id: int, voter_key: str, size: int) -> bytes:
    plain = _encode(choices)
    if len(plain) > size:
        size = -(-len(plain) // 64) * 64
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plain.ljust(size, b" "),
                                 _associated(round_id, voter_key))
    return bytes([1]) + hashlib.sha256(key).digest()[:8] + nonce + sealed


def _open(keys: list[bytes], sealed: bytes, round_id: int, voter_key: str) -> dict:
    by_id = {hashlib.sha256(key).digest()[:8]: key for key in keys}
    key = by_id.get(bytes(sealed[1:9]))
    if key is None:
        raise RuntimeError("a ballot was sealed with a key that is not in BALLOT_KEYS")
    plain = AESGCM(key).decrypt(bytes(sealed[9:21]), bytes(sealed[21:]),
                                _associated(round_id, voter_key))
    return json.loads(plain)


def _ballots_table(content: sa.Column) -> None:
    op.create_table(
        "ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        content,
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_ballots_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("round_id", "voter_key", name="one_ballot_per_voter"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_ballots_round_id"), "ballots", ["round_id"], unique=False)


def _plain(value) -> dict:
    return json.loads(value) if isinstance(value, str | bytes) else value


def upgrade():
    bind = op.get_bind()
    key = _keys()[0]
    sizes = _sizes(bind)
    rows = bind.execute(sa.text(
        "SELECT id, round_id, voter_key, choices FROM ballots")).all()
    op.drop_index(op.f("ix_ballots_round_id"), table_name="ballots")
    op.drop_table("ballots")
    _ballots_table(sa.Column("sealed", sa.LargeBinary(), nullable=False))
    ballots = sa.table("ballots", sa.column("id"), sa.column("round_id"),
                       sa.column("voter_key"), sa.column("sealed", sa.LargeBinary()))
    # Sealed in a random order: the new table's row order says nothing of the old one's.
    secrets.SystemRandom().shuffle(rows)
    if rows:
        op.bulk_insert(ballots, [
            {"id": ballot_id, "round_id": round_id, "voter_key": voter_key,
             "sealed": _seal(key, _plain(choices), round_id, voter_key, sizes[round_id])}
            for ballot_id, round_id, voter_key, choices in rows
        ])


def downgrade():
    bind = op.get_bind()
    keys = _keys()
    rows = bind.execute(sa.text("SELECT id, round_id, voter_key, sealed FROM ballots")).all()
    op.drop_index(op.f("ix_ballots_round_id"), table_name="ballots")
    op.drop_table("ballots")
    _ballots_table(sa.Column("choices", sa.JSON(), nullable=False))
    ballots = sa.table("ballots", sa.column("id"), sa.column("round_id"),
                       sa.column("voter_key"), sa.column("choices", sa.JSON()))
    if rows:
        op.bulk_insert(ballots, [
            {"id": ballot_id, "round_id": round_id, "voter_key": voter_key,
             "choices": _open(keys, sealed, round_id, voter_key)}
            for ballot_id, round_id, voter_key, sealed in rows
        ])
