"""Images of proposals: uploads checked by content, re-encoded without metadata, kept in a
few widths; who may add, remove and see them."""

import io
import socket
import struct
import zlib
from types import SimpleNamespace

import pytest
from PIL import Image, ImageCms
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, MembershipRole, ProposalStatus, RoundPhase
from pb_vote.services import images
from pb_vote.services.image_store import LocalImageStore, S3ImageStore
from tests import factories

SETTINGS = images.ImageSettings()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in a few dozen bytes (a
    decompression bomb's header: the pixels would follow, zeros that compress to
    nothing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_an_upload_comes_out_without_its_gps_position_and_upright():
    upload = factories.image_bytes("JPEG", (1200, 800), gps=True, orientation=6)
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(factories.EXIF_GPS_INFO)
    processed = images.process_upload(upload, SETTINGS)
    assert [r.width for r in processed.renditions] == [480, 800]  # turned: 800 wide
    for rendition in processed.renditions:
        with Image.open(io.BytesIO(rendition.data)) as out:
            assert out.format == "WEBP"
            assert not out.getexif(), "EXIF survived"
            assert "exif" not in out.info and "xmp" not in out.info
            assert "icc_profile" not in out.info or not out.info["icc_profile"]
            # Orientation 6: turned 90 degrees clockwise, so portrait now.
            assert out.size == (rendition.width, rendition.height)
            assert out.height > out.width
            # The red corner of the top left went to the top right.
            rgb = out.convert("RGB")
            assert rgb.getpixel((out.width - 3, 3))[0] > 200
            assert rgb.getpixel((3, 3))[0] < 100
    assert processed.renditions[-1].data != upload


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_jpeg_png_and_webp_are_accepted_and_never_enlarged(fmt):
    processed = images.process_upload(factories.image_bytes(fmt, (300, 200)), SETTINGS)
    assert [(r.width, r.height) for r in processed.renditions] == [(300, 200)]


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>",
        b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        factories.image_bytes("GIF", (50, 50)),
        factories.image_bytes("BMP", (50, 50)),
        factories.image_bytes("JPEG")[:400],  # cut off
        b"",
    ],
    ids=["svg-script", "png-named-html", "html", "gif", "bmp", "truncated", "empty"],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused(data):
    with pytest.raises(images.ImageError) as refused:
        images.process_upload(data, SETTINGS)
    assert refused.value.code == "image_unreadable"


@pytest.mark.parametrize("side", [8_000, 30_000])  # above ours; above Pillow's own limit
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side):
    with pytest.raises(images.ImageError) as refused:
        images.process_upload(png_header_only(side, side), SETTINGS)
    assert refused.value.code == "image_too_many_pixels"


def test_rendition_widths():
    assert images.rendition_widths(4000, [480, 960, 1600]) == [480, 960, 1600]
    assert images.rendition_widths(960, [480, 960, 1600]) == [480, 960]
    assert images.rendition_widths(200, [480, 960, 1600]) == [200]


@pytest.fixture
def scene(app_ctx, tmp_path):
    town = factories.city()
    author = factories.user("author@example.org")
    round_ = factories.round_(town.own, RoundPhase.PROPOSALS)
    idea = factories.proposal(round_, author=author)
    db.session.commit()
    return SimpleNamespace(town=town, author=author, round=round_, idea=idea,
                           store=LocalImageStore(str(tmp_path / "store")))


def test_the_author_adds_images_up_to_the_limit_with_alt_text(scene):
    image = factories.proposal_image(scene.idea, scene.store, per_proposal=2)
    assert image.alt_text and image.alt_language == scene.idea.language
    assert scene.store.get(image.file_name(image.width_list[-1])).startswith(b"RIFF")
    factories.proposal_image(scene.idea, scene.store, per_proposal=2)
    with pytest.raises(images.ImageError) as refused:
        factories.proposal_image(scene.idea, scene.store, per_proposal=2)
    assert refused.value.code == "image_limit"
    with pytest.raises(images.ImageError) as refused:
        factories.proposal_image(scene.idea, scene.store, alt_text="   ")
    assert refused.value.code in ("image_alt_required", "image_limit")
    # Adding by the author is not a staff action: no audit event.
    assert not db.session.execute(select(AuditEvent)).scalars().all()


def test_alt_text_is_required(scene):
    with pytest.raises(images.ImageError) as refused:
        factories.proposal_image(scene.idea, scene.store, alt_text=" \t ")
    assert refused.value.code == "image_alt_required"


def test_images_change_only_while_the_idea_can_be_edited(scene):
    scene.round.phase = RoundPhase.REVIEW
    db.session.flush()
    with pytest.raises(images.ImageError) as refused:
        factories.proposal_image(scene.idea, scene.store)
    assert refused.value.code == "image_window_closed"
    # The table's staff still may during review (audited); another table's may not.
    image = factories.proposal_image(scene.idea, scene.store, by=scene.town.member)
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert event.action == "proposal.image_added" and event.details == {"image": image.id}
    stranger = factories.user("other@example.org", role=MembershipRole.MEMBER,
                              at=scene.town.other)
    with pytest.raises(images.ImageError):
        factories.proposal_image(scene.idea, scene.store, by=stranger)
    scene.round.phase = RoundPhase.VOTING
    db.session.flush()
    with pytest.raises(images.ImageError):
        factories.proposal_image(scene.idea, scene.store, by=scene.town.member)


def test_a_moderator_removes_an_image_with_a_reason(scene):
    image = factories.proposal_image(scene.idea, scene.store)
    twin = factories.proposal_image(factories.proposal(scene.round, author=scene.author),
                                    scene.store)
    assert twin.key == image.key  # the same picture: the same files
    with pytest.raises(images.ImageError) as refused:
        images.remove_image(scene.town.member, image, "  ")
    assert refused.value.code == "reason_required"
    with pytest.raises(images.ImageError) as refused:
        images.remove_image(scene.author, image, "Mine")
    assert refused.value.code == "not_allowed"
    assert images.remove_image(scene.town.member, image, "Shows a person's face.") == []
    db.session.refresh(image)
    assert image.is_removed and image.removed_reason == "Shows a person's face."
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert event.action == "proposal.image_removed"
    assert event.details["reason"] == "Shows a person's face."
    with pytest.raises(images.ImageError) as refused:
        images.remove_image(scene.town.member, image, "again")
    assert refused.value.code == "image_already_removed"
    # The last image with these files lets them go.
    assert images.remove_image(scene.town.member, twin, "Same") == twin.file_names


def test_who_sees_an_image(scene):
    image = factories.proposal_image(scene.idea, scene.store)
    neighbour = factories.user("neighbour@example.org")
    assert images.visible_image(None, image.key) == (image, True)
    for status in (ProposalStatus.WITHDRAWN, ProposalStatus.HIDDEN):
        scene.idea.status = status
        scene.idea.hidden_reason = "Abusive."
        db.session.flush()
        assert images.visible_image(None, image.key) is None
        assert images.visible_image(neighbour, image.key) is None
        assert images.visible_image(scene.author, image.key) == (image, False)
        assert images.visible_image(scene.town.member, image.key) == (image, False)
    scene.idea.status = ProposalStatus.SUBMITTED
    scene.round.phase = RoundPhase.DRAFT
    db.session.flush()
    assert images.visible_image(None, image.key) is None
    assert images.visible_image(scene.author, image.key) is None
    assert images.visible_image(scene.town.member, image.key) == (image, False)
    assert images.first_images([scene.idea.id]) == {scene.idea.id: image}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_server(monkeypatch):
    """A local S3 stand-in (moto's server mode), or a skip saying why."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (the test extra has it)")
    pytest.importorskip("boto3", reason="boto3 is not installed")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port,
                                              verbose=False)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "eu-north-1")):
        monkeypatch.setenv(name, value)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_the_s3_store_keeps_reads_and_deletes_files(s3_server):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="eu-north-1")
    client.create_bucket(Bucket="pb-images",
                         CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    store = S3ImageStore("pb-images", prefix="images/", endpoint_url=s3_server,
                         region="eu-north-1")
    processed = images.process_upload(factories.image_bytes(gps=True), SETTINGS)
    rendition = processed.renditions[0]
    name = processed.file_name(rendition)
    assert store.get(name) is None
    store.put(name, rendition.data, "image/webp")
    assert store.get(name) == rendition.data
    head = client.head_object(Bucket="pb-images", Key=f"images/{name}")
    assert head["ContentType"] == "image/webp"
    assert "immutable" in head["CacheControl"]
    store.delete(name)
    store.delete(name)  # not there: no error
    assert store.get(name) is None
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


def _blank(mode: str, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (100, 80)).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("upload", "mode"),
    [
        (_blank("CMYK", "JPEG"), "RGB"),
        (_blank("L", "JPEG"), "RGB"),
        (_blank("LA", "PNG"), "RGBA"),
        (_blank("P", "PNG", transparency=0), "RGBA"),
        (_blank("I;16", "PNG"), "RGB"),
        (_blank("1", "PNG"), "RGB"),
        (_blank("RGBA", "WEBP"), "RGBA"),
        (_blank("RGB", "JPEG", icc_profile=ImageCms.ImageCmsProfile(
            ImageCms.createProfile("sRGB")).tobytes()), "RGB"),
    ],
    ids=["cmyk-jpeg", "grey-jpeg", "grey-alpha-png", "palette-png", "16-bit-png",
         "bilevel-png", "rgba-webp", "icc-profile-jpeg"],
)
def test_every_kind_of_picture_comes_out_as_srgb_without_a_profile(upload, mode):
    rendition = images.process_upload(upload, SETTINGS).renditions[0]
    with Image.open(io.BytesIO(rendition.data)) as out:
        assert out.mode == mode
        assert not out.info.get("icc_profile") and not out.getexif()
