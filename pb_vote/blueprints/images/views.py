"""Serving images of proposals, and the helpers the views that take uploads share.

A rendition is served only to someone who may see its proposal's content (a hidden or
withdrawn idea's only to its author and the table's staff; a draft round's only to staff),
although its name (the SHA-256 of its bytes) cannot be guessed anyway. What everyone may
see is cached anywhere for a year (the name changes with the content); the rest is never
stored by a cache.
"""

import re

from flask import Blueprint, abort, g, make_response
from flask_login import current_user

from pb_vote.blueprints.uploads import image_store
from pb_vote.models.images import IMAGE_CONTENT_TYPE
from pb_vote.services import images as image_service

bp = Blueprint("images", __name__)

FILE_NAME = re.compile(r"([0-9a-f]{64})-([0-9]{1,5})\.webp")


@bp.get("/images/<name>")
def serve(name: str):
    """One rendition of an image, to whoever may see its proposal."""
    match = FILE_NAME.fullmatch(name)
    if not match:
        abort(404)
    key, width = match.group(1), int(match.group(2))
    # Public first, without reading the session: a response any cache may keep must not
    # depend on (or carry) anyone's cookie.
    found = image_service.visible_image(None, key)
    if found is None and current_user.is_authenticated:
        found = image_service.visible_image(current_user, key)
    if found is None:
        abort(404)
    image, public = found
    if width not in image.width_list:
        abort(404)
    data = image_store().get(name)
    if data is None:
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = IMAGE_CONTENT_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if public:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        g.shared_cache = True  # the same bytes for everyone, signed in or not
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response
