"""Files kept in the database in slices (``StoredFile``), written once per content and read
one slice at a time, as they are or gzip-compressed, so a download of a city's ballots never
sits whole in a worker's memory.

The compressed form is a raw DEFLATE stream ended by a sync flush: ``gzip_head`` and
``gzip_tail`` wrap it into a gzip member, with some bytes of the response's own after the
stored ones (``extra``: the receipts download ends with its publication's number), so the
gzip bytes are as fixed as the stored ones.
"""

import hashlib
import struct
import zlib
from collections.abc import Iterator

from sqlalchemy import insert, select

from pb_vote.extensions import db
from pb_vote.models import FileSlice, StoredFile

SLICE_SIZE = 256 * 1024
IDENTITY = "identity"
DEFLATE = "deflate"
# gzip: magic, deflate, no flags, no time, no extra flags, unknown system (RFC 1952)
GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_LAST_BLOCK_MAX = 0xFFFF


def _slices(data: bytes, size: int) -> list[bytes]:
    return [data[start:start + size] for start in range(0, len(data), size)] or [b""]


def deflated(data: bytes) -> bytes:
    """``data`` as a raw DEFLATE stream that more blocks may follow (sync flush)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def store(data: bytes) -> StoredFile:
    """The stored file holding ``data``: the one already stored with the same bytes, else a
    new one with its slices (flushes)."""
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.execute(
        select(StoredFile).where(StoredFile.digest == digest)).scalar_one_or_none()
    if found is not None:
        return found
    packed = deflated(data)
    stored = StoredFile(digest=digest, size=len(data), deflated_size=len(packed),
                        crc32=zlib.crc32(data), slice_size=SLICE_SIZE)
    db.session.add(stored)
    db.session.flush()
    for encoding, content in ((IDENTITY, data), (DEFLATE, packed)):
        db.session.execute(insert(FileSlice), [
            {"file_id": stored.id, "encoding": encoding, "number": number, "data": part}
            for number, part in enumerate(_slices(content, SLICE_SIZE))])
    return stored


def read_slices(file_id: int, encoding: str, count: int) -> Iterator[bytes]:
    """The first ``count`` slices of a stored file in ``encoding``, one query each."""
    query = select(FileSlice.data).where(FileSlice.file_id == file_id,
                                         FileSlice.encoding == encoding)
    for number in range(count):
        data = db.session.execute(query.where(FileSlice.number == number)).scalar_one()
        yield bytes(data)


def slice_count(size: int, slice_size: int) -> int:
    """How many slices hold ``size`` bytes (one, empty, for an empty file)."""
    return max(1, -(-size // slice_size))


def gzip_tail(stored: StoredFile, extra: bytes = b"") -> bytes:
    """What follows the stored DEFLATE stream in a gzip member of the stored bytes and then
    ``extra``: ``extra`` as the last (uncompressed) block, the CRC-32 and the length."""
    if len(extra) > _LAST_BLOCK_MAX:
        raise ValueError("extra bytes too long for one stored block")
    block = b"\x01" + struct.pack("<HH", len(extra), len(extra) ^ 0xFFFF) + extra
    crc = zlib.crc32(extra, stored.crc32)
    return block + struct.pack("<II", crc, (stored.size + len(extra)) & 0xFFFFFFFF)

