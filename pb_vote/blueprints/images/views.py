"""Serving images of proposals, and the helpers the views that take uploads share.

A rendition is served only to someone who may see its proposal's content (a hidden or
withdrawn idea's only to its author and the table's staff; a draft round's only to staff),
although its name (the SHA-256 of its bytes) cannot be guessed anyway. What everyone may
see is cached anywhere for a year (the name changes with the content); the rest is never
stored by a cache.
"""

import re

from flask import Blueprint, abort, current_app, g, make_response
from flask_login import current_user

from pb_vote.models.images import IMAGE_CONTENT_TYPE
from pb_vote.services import images as image_service
from pb_vote.services.image_store import ImageStore, store_from_config

bp = Blueprint("images", __name__)

FILE_NAME = re.compile(r"([0-9a-f]{64})-([0-9]{1,5})\.webp")
# The views whose forms carry an image: they may receive IMAGE_MAX_UPLOAD_BYTES.
UPLOAD_ENDPOINTS = frozenset({"proposals.submit", "proposals.edit",
                              "moderation.add_proposal", "moderation.add_image"})


def image_store() -> ImageStore:
    """The application's image store (``IMAGE_STORAGE``), made once."""
    store = current_app.extensions.get("pb_vote.image_store")
    if store is None:
        store = current_app.extensions["pb_vote.image_store"] = store_from_config(
            current_app.config, current_app.instance_path)
    return store


def image_settings() -> image_service.ImageSettings:
    """The configured image settings."""
    return image_service.ImageSettings.from_config(current_app.config)


def uploaded_image(form) -> image_service.ProcessedImage | None:
    """The form's image checked and re-encoded (None when none was chosen); raises
    ImageError when it is refused."""
    upload = form.image.data
    if not upload:
        return None
    return image_service.process_upload(upload.read(), image_settings())


def delete_files(names: list[str]) -> None:
    """Delete files no image needs any more (after the commit that let them go)."""
    store = image_store()
    for name in names:
        store.delete(name)


def allow_image_uploads() -> None:
    """Before anything reads the form (CSRF does): the views that take an image accept a
    request up to IMAGE_MAX_UPLOAD_BYTES; every other keeps MAX_CONTENT_LENGTH."""
    from flask import request

    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["IMAGE_MAX_UPLOAD_BYTES"]


@bp.get("/images/<name>")
def serve(name: str):
    """One rendition of an image, to whoever may see its proposal."""
    match = FILE_NAME.fullmatch(name)
    if not match:
        abort(404)
    key, width = match.group(1), int(match.group(2))
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
