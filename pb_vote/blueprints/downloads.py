"""Sending the results' open-data files so that results day costs little: a stored file is
streamed slice by slice (never whole in the worker), a small one is built from the
publication's summary; either way with a strong ETag, an answer 304 to a conditional GET
that has it, and gzip when the client accepts it (stored compressed, so never compressed
again per request)."""

import gzip
import hashlib
from collections.abc import Callable, Iterator

from flask import Response, request, stream_with_context

from pb_vote.models import StoredFile
from pb_vote.services import files

# A publication in force can be replaced by a correction: caches ask again each time (a
# 304 when nothing changed). A numbered publication's file never changes.
IN_FORCE = "public, no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _answer(etag: str, cache_control: str, body: Callable, length: int, mimetype: str,
            headers: dict, compressed: bool) -> Response:
    """The response: 304 when the request has ``etag``, else ``body()``."""
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(body(), mimetype=mimetype, headers=headers)
        response.headers["Content-Length"] = str(length)
        if compressed:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    response.vary.add("Accept-Encoding")
    return response


def send_stored(stored: StoredFile, mimetype: str, *, extra: bytes = b"",
                cache_control: str = IN_FORCE, headers: dict | None = None) -> Response:
    """A stored file, followed by ``extra`` bytes, streamed; its ETag comes from the stored
    digest (and ``extra``), so a 304 reads no slice."""
    compressed = _wants_gzip()
    etag = stored.digest[:40]
    if extra:
        etag += "-" + hashlib.sha256(extra).hexdigest()[:16]
    if compressed:
        etag += "-gzip"
        tail = files.gzip_tail(stored, extra)
        count = files.slice_count(stored.deflated_size, stored.slice_size)
        length = len(files.GZIP_HEAD) + stored.deflated_size + len(tail)

        def body() -> Iterator[bytes]:
            yield files.GZIP_HEAD
            yield from files.read_slices(stored.id, files.DEFLATE, count)
            yield tail
    else:
        count = files.slice_count(stored.size, stored.slice_size)
        length = stored.size + len(extra)

        def body() -> Iterator[bytes]:
            yield from files.read_slices(stored.id, files.IDENTITY, count)
            yield extra

    return _answer(etag, cache_control, lambda: stream_with_context(body()), length,
                   mimetype, headers or {}, compressed)


def send_small(content: bytes, mimetype: str, *, cache_control: str = IN_FORCE,
               headers: dict | None = None) -> Response:
    """A small file built for this response (a few kilobytes: the results as JSON or CSV),
    its ETag the SHA-256 of its bytes."""
    etag = hashlib.sha256(content).hexdigest()[:40]
    compressed = _wants_gzip()
    if compressed:
        etag += "-gzip"
        content = gzip.compress(content, compresslevel=6, mtime=0)
    return _answer(etag, cache_control, lambda: content, len(content), mimetype,
                   headers or {}, compressed)
