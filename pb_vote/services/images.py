"""Images of proposals: check an upload by its content, re-encode it without its metadata,
keep a few widths of it, and decide who sees it.

An upload is opened with Pillow and accepted only when Pillow reads it as JPEG, PNG or
WebP (never by its name or the browser's content type), and only below a pixel count
checked before decoding (decompression bombs). It is turned upright by its EXIF
orientation, converted to sRGB, and re-encoded as WebP in each width, with no EXIF (GPS!),
XMP or colour profile: the uploaded bytes are never kept or served. The renditions are
named by their content, so they can be cached for a year.

The author adds images while they may edit the idea; the table's staff while the round
takes moderation. A moderator removes one with a reason (audited, shown to the author);
its row stays, its files go (unless another image has the same content).
"""

import hashlib
import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import LANGUAGES, Proposal, ProposalImage, User
from pb_vote.models.images import IMAGE_CONTENT_TYPE
from pb_vote.services.audit import record_event
from pb_vote.services.image_store import ImageStore
from pb_vote.services.locking import locked
from pb_vote.services.permissions import Action, can_see_proposal_content, is_allowed
from pb_vote.services.proposals import MODERATABLE, author_may_edit

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
ALT_TEXT_MAX = 300
_SRGB = ImageCms.createProfile("sRGB")


class ImageError(ServiceError):
    """An image was refused."""


@dataclass(frozen=True)
class ImageSettings:
    """How images are made and how many a proposal may have (from the configuration)."""

    widths: tuple[int, ...] = (480, 960, 1600)
    max_pixels: int = 40_000_000
    quality: int = 80
    per_proposal: int = 3

    @classmethod
    def from_config(cls, config: Mapping) -> "ImageSettings":
        """The settings of ``IMAGE_WIDTHS``, ``IMAGE_MAX_PIXELS``, ``IMAGE_QUALITY`` and
        ``IMAGES_PER_PROPOSAL``."""
        return cls(widths=tuple(sorted({int(w) for w in config["IMAGE_WIDTHS"]})),
                   max_pixels=int(config["IMAGE_MAX_PIXELS"]),
                   quality=int(config["IMAGE_QUALITY"]),
                   per_proposal=int(config["IMAGES_PER_PROPOSAL"]))


@dataclass(frozen=True)
class Rendition:
    """One re-encoded width of an image."""

    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted upload: its renditions, narrowest first, and its content key."""

    key: str
    renditions: tuple[Rendition, ...]

    @property
    def largest(self) -> Rendition:
        """The widest rendition."""
        return self.renditions[-1]

    def file_name(self, rendition: Rendition) -> str:
        """The stored name of ``rendition``."""
        return f"{self.key}-{rendition.width}.webp"


def _upright_srgb(opened: Image.Image) -> Image.Image:
    """The first frame, turned by its EXIF orientation, in sRGB (RGB, or RGBA when it has
    transparency), with none of the file's metadata."""
    icc = opened.info.get("icc_profile")
    alpha = opened.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in opened.info
    mode = "RGBA" if alpha else "RGB"
    picture = ImageOps.exif_transpose(opened)  # a new image
    if icc and picture.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            picture = ImageCms.profileToProfile(picture, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the values as they are
    if picture.mode != mode:
        picture = picture.convert(mode)
    picture.info = {}
    return picture


def rendition_widths(width: int, widths: Iterable[int]) -> list[int]:
    """The widths to make of an image ``width`` pixels wide: each configured one narrower
    than it, and the image itself up to the widest (never enlarged)."""
    widths = sorted(set(widths))
    made = [w for w in widths if w < width]
    made.append(min(width, widths[-1]))
    return sorted(set(made))


def _encode(picture: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=quality, method=4, exif=b"", icc_profile=None, xmp="")
    return out.getvalue()


def process_upload(data: bytes, settings: ImageSettings) -> ProcessedImage:
    """Check an upload by its content and make its renditions; ImageError says why not:
    ``image_unreadable`` (not a JPEG, PNG or WebP Pillow can read, whatever its name) or
    ``image_too_many_pixels`` (checked before decoding)."""
    if not data:
        raise ImageError("image_unreadable")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
                if opened.width * opened.height > settings.max_pixels:
                    raise ImageError("image_too_many_pixels",
                                     megapixels=settings.max_pixels // 1_000_000)
                opened.load()
                picture = _upright_srgb(opened)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("image_too_many_pixels",
                         megapixels=settings.max_pixels // 1_000_000) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            IndexError, TypeError):
        raise ImageError("image_unreadable") from None
    renditions = []
    for width in rendition_widths(picture.width, settings.widths):
        height = max(1, round(picture.height * width / picture.width))
        resized = (picture if width == picture.width
                   else picture.resize((width, height), Image.Resampling.LANCZOS))
        renditions.append(Rendition(width, height, _encode(resized, settings.quality)))
    key = hashlib.sha256(renditions[-1].data).hexdigest()
    return ProcessedImage(key=key, renditions=tuple(renditions))


# --- Who may do what ----------------------------------------------------------------------

def may_change_images(actor: User, proposal: Proposal, now: datetime) -> bool:
    """The author while they may edit the idea (until review starts); the table's staff
    while the round takes moderation (proposals and review)."""
    if not actor.is_authenticated:
        return False
    if proposal.author_id == actor.id and author_may_edit(proposal, now):
        return True
    return (is_allowed(actor, Action.MODERATE, proposal)
            and proposal.round.phase.moderation_open and proposal.status in MODERATABLE)


def _touch(proposal: Proposal) -> None:
    """Mark the proposal changed, so pages kept rendered are made again."""
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id)
                       .values(updated_at=clock.utcnow())
                       .execution_options(synchronize_session=False))
    db.session.expire(proposal)


def _is_staff_act(actor: User, proposal: Proposal) -> bool:
    return proposal.author_id != actor.id


def add_image(actor: User, proposal: Proposal, processed: ProcessedImage, alt_text: str,
              store: ImageStore, settings: ImageSettings,
              language: str | None = None) -> ProposalImage:
    """Add an accepted upload to the proposal with its alt text (required, in ``language``:
    by default the proposal's). Refused outside the time to change it, without alt text,
    or beyond ``settings.per_proposal`` images. Writes the files before the row, so a row
    never names a missing file (flushes; staff additions are audited)."""
    if not may_change_images(actor, proposal, clock.utcnow()):
        raise ImageError("image_window_closed")
    alt = " ".join((alt_text or "").split())
    if not alt:
        raise ImageError("image_alt_required")
    if len(alt) > ALT_TEXT_MAX:
        raise ImageError("image_alt_too_long", max=ALT_TEXT_MAX)
    # The proposal's row held, so two uploads at once cannot pass the limit together.
    locked(select(Proposal).where(Proposal.id == proposal.id))
    shown = db.session.execute(
        select(ProposalImage.id).where(ProposalImage.proposal_id == proposal.id,
                                       ProposalImage.removed_at.is_(None))).all()
    if len(shown) >= settings.per_proposal:
        raise ImageError("image_limit", max=settings.per_proposal)
    for rendition in processed.renditions:
        store.put(processed.file_name(rendition), rendition.data, IMAGE_CONTENT_TYPE)
    largest = processed.largest
    image = ProposalImage(
        proposal_id=proposal.id, key=processed.key,
        widths=",".join(str(r.width) for r in processed.renditions),
        width=largest.width, height=largest.height, alt_text=alt,
        alt_language=language if language in LANGUAGES else proposal.language,
        added_by_id=actor.id,
    )
    db.session.add(image)
    db.session.flush()
    if _is_staff_act(actor, proposal):
        record_event(actor, "proposal.image_added", "proposal", proposal.id,
                     table_id=proposal.round.table_id, details={"image": image.id})
    _touch(proposal)
    return image


def _unused_files(image: ProposalImage) -> list[str]:
    """The files of ``image`` no other shown image needs (the same content uploaded twice
    shares its files)."""
    others = db.session.execute(
        select(ProposalImage.widths).where(ProposalImage.key == image.key,
                                           ProposalImage.id != image.id,
                                           ProposalImage.removed_at.is_(None))).scalars()
    needed = {int(w) for widths in others for w in widths.split(",")}
    return [image.file_name(w) for w in image.width_list if w not in needed]


def delete_image(actor: User, image: ProposalImage) -> list[str]:
    """The author (or staff, while they may change it) takes an image off the proposal: the
    row goes. Returns the files to delete once this commits."""
    proposal = image.proposal
    if image.is_removed or not may_change_images(actor, proposal, clock.utcnow()):
        raise ImageError("image_window_closed")
    unused = _unused_files(image)
    if _is_staff_act(actor, proposal):
        record_event(actor, "proposal.image_deleted", "proposal", proposal.id,
                     table_id=proposal.round.table_id, details={"image": image.id})
    db.session.delete(image)
    db.session.flush()
    _touch(proposal)
    return unused


def remove_image(actor: User, image: ProposalImage, reason: str) -> list[str]:
    """A moderator removes an image, in any phase, with a reason (audited; the author
    sees it on "My proposals"). The row stays; returns the files to delete once this
    commits."""
    proposal = image.proposal
    if not is_allowed(actor, Action.MODERATE, proposal):
        raise ImageError("not_allowed")
    reason = (reason or "").strip()
    if not reason:
        raise ImageError("reason_required")
    changed = db.session.execute(
        update(ProposalImage)
        .where(ProposalImage.id == image.id, ProposalImage.removed_at.is_(None))
        .values(removed_at=clock.utcnow(), removed_by_id=actor.id, removed_reason=reason)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise ImageError("image_already_removed")
    db.session.expire(image)
    record_event(actor, "proposal.image_removed", "proposal", proposal.id,
                 table_id=proposal.round.table_id,
                 details={"image": image.id, "reason": reason})
    unused = _unused_files(image)
    _touch(proposal)
    return unused


# --- Who sees what ------------------------------------------------------------------------

def visible_image(user: User | None, key: str) -> tuple[ProposalImage, bool] | None:
    """A shown image with this content key that ``user`` may see, and whether everyone may
    (then it can be cached anywhere); None when there is none to show them."""
    images = db.session.execute(
        select(ProposalImage).where(ProposalImage.key == key,
                                    ProposalImage.removed_at.is_(None))
        .order_by(ProposalImage.id)).scalars().all()
    for image in images:
        if can_see_proposal_content(None, image.proposal):
            return image, True
    for image in images:
        if can_see_proposal_content(user, image.proposal):
            return image, False
    return None


def first_images(proposal_ids: Iterable[int]) -> dict[int, ProposalImage]:
    """The first shown image of each of these proposals that has one (one query), for
    the thumbnails of a list."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    firsts: dict[int, ProposalImage] = {}
    rows = db.session.execute(
        select(ProposalImage).where(ProposalImage.proposal_id.in_(ids),
                                    ProposalImage.removed_at.is_(None))
        .order_by(ProposalImage.proposal_id, ProposalImage.id)).scalars()
    for image in rows:
        firsts.setdefault(image.proposal_id, image)
    return firsts
