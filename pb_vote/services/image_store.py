"""Where image renditions are kept: a folder on local disk (the default, under the
instance folder) or an S3-compatible bucket (several app machines share it). Both hold
files by name, written once (names are content-addressed) and deleted when no image needs
them. No Flask here: the application builds the store from its configuration."""

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from typing import Protocol

# The only names a store holds: 64 hex digits, the width, the format.
NAME_PATTERN = re.compile(r"[0-9a-f]{64}-[0-9]{1,5}\.webp")


class ImageStore(Protocol):
    """The small interface the service needs."""

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Keep ``data`` under ``name`` (written again with the same bytes: no harm)."""

    def get(self, name: str) -> bytes | None:
        """The bytes kept under ``name``, or None."""

    def delete(self, name: str) -> None:
        """Forget ``name`` (nothing happens when it is not there)."""


def _checked(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"not an image file name: {name!r}")
    return name


class LocalImageStore:
    """Files in one folder, each written to a temporary file and renamed into place, so a
    reader never sees half of one."""

    def __init__(self, folder: str):
        self.folder = folder

    def _path(self, name: str) -> str:
        return os.path.join(self.folder, _checked(name))

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Write ``data`` as ``name``."""
        path = self._path(name)
        os.makedirs(self.folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def get(self, name: str) -> bytes | None:
        """The file's bytes, or None."""
        try:
            with open(self._path(name), "rb") as file:
                return file.read()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        """Remove the file if it is there."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(name))


class S3ImageStore:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, UpCloud...), under a prefix,
    through boto3."""

    def __init__(self, bucket: str, *, prefix: str = "", client=None,
                 endpoint_url: str | None = None, region: str | None = None):
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url or None,
                                  region_name=region or None)
        self.client, self.bucket, self.prefix = client, bucket, prefix or ""

    def _key(self, name: str) -> str:
        return self.prefix + _checked(name)

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """Upload ``data`` as ``name``."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data,
                               ContentType=content_type,
                               CacheControl="public, max-age=31536000, immutable")

    def get(self, name: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        with answer["Body"] as body:
            return body.read()

    def delete(self, name: str) -> None:
        """Delete the object (S3 answers the same when there is none)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))


def store_from_config(config: Mapping, instance_path: str) -> ImageStore:
    """The store the configuration names (``IMAGE_STORAGE``)."""
    kind = config.get("IMAGE_STORAGE") or "local"
    if kind == "local":
        return LocalImageStore(config.get("IMAGE_FOLDER")
                               or os.path.join(instance_path, "images"))
    if kind == "s3":
        bucket = config.get("IMAGE_S3_BUCKET")
        if not bucket:
            raise ValueError("IMAGE_STORAGE is s3: set IMAGE_S3_BUCKET")
        return S3ImageStore(bucket, prefix=config.get("IMAGE_S3_PREFIX") or "",
                            endpoint_url=config.get("IMAGE_S3_ENDPOINT_URL"),
                            region=config.get("IMAGE_S3_REGION"))
    raise ValueError(f"IMAGE_STORAGE must be local or s3, not {kind!r}")
