"""What the views that take an image upload share: the image store and settings of the
application, the upload checked and re-encoded, the files to delete after a commit, and
the larger request size those views accept."""

from flask import current_app, request

from pb_vote.services import images as image_service
from pb_vote.services.image_store import ImageStore, store_from_config

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
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["IMAGE_MAX_UPLOAD_BYTES"]
