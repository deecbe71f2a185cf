"""The ballot box: what a voter chose, sealed under a key that lives in configuration.

Pure: no Flask, no database. A sealed ballot is AES-256-GCM (the ``cryptography`` library)
over the ballot's normal form, padded to the same length for every ballot of a round, so its
size says nothing about how many proposals were chosen. The round and the ballot's
pseudonymous voter key are authenticated with it (associated data): a sealed ballot moved to
another row or round does not open.

    sealed = version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag

The key id (the first 8 bytes of the key's SHA-256) says which key of the keyring sealed it,
so keys can be rotated: new ballots are sealed with the first key, older ones open with the
key that sealed them (``flask --app pb_vote reseal-ballots`` moves them to the first key).
Without the key a round's ballots cannot be counted: back the keys up apart from the
database.
"""

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_BYTES = 8
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES


class BallotKeyError(Exception):
    """A sealed ballot cannot be opened: its key is missing, or it was altered."""


def new_key() -> str:
    """A fresh random key, as it is written in configuration."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_keys(value, what: str = "ballot key") -> list[bytes]:
    """The keys of a configuration value: a list, or a string of keys separated by commas or
    spaces; each 32 bytes in URL-safe base64. Raises ValueError naming what is wrong."""
    texts = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    keys = []
    for text in texts:
        padded = text.strip() + "=" * (-len(text.strip()) % 4)
        try:
            key = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"a {what} is not URL-safe base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"a {what} must be {KEY_BYTES} bytes, not {len(key)}")
        keys.append(key)
    if not keys:
        raise ValueError(f"no {what} is configured")
    return keys


def key_id(key: bytes) -> bytes:
    """The short public name of a key, stored with every ballot it seals."""
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


def _associated(round_id: int, voter_key: str) -> bytes:
    return f"pb_vote ballot v{VERSION}|round:{round_id}|voter:{voter_key}".encode()


def sealed_size(proposal_ids: Iterable[int], most_per_proposal: int) -> int:
    """The padded length of every ballot of a round: the normal form of the largest ballot
    its rules could allow (every proposal, each with the most it may get)."""
    largest = {str(pid): most_per_proposal for pid in sorted(proposal_ids)}
    return len(_encode(largest)) if largest else 2


def _encode(choices: dict[str, int]) -> bytes:
    return json.dumps(choices, separators=(",", ":"), sort_keys=False).encode()


class Keyring:
    """The configured ballot keys, newest (the one that seals) first."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("no ballot key is configured")
        self._sealing = keys[0]
        self._by_id = {key_id(key): AESGCM(key) for key in keys}

    @classmethod
    def from_config(cls, value) -> "Keyring":
        """The keyring of a configuration value (see :func:`parse_keys`)."""
        return cls(parse_keys(value))

    @property
    def sealing_key_id(self) -> bytes:
        """The id of the key new ballots are sealed with."""
        return key_id(self._sealing)

    def seal(self, choices: dict[str, int], *, round_id: int, voter_key: str,
             size: int) -> bytes:
        """Seal a ballot's normal form, padded to ``size`` bytes (its round's
        :func:`sealed_size`; a longer ballot is padded to the next multiple of 64)."""
        plain = _encode(choices)
        if len(plain) > size:
            size = -(-len(plain) // 64) * 64
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._by_id[self.sealing_key_id].encrypt(
            nonce, plain.ljust(size, b" "), _associated(round_id, voter_key))
        return bytes([VERSION]) + self.sealing_key_id + nonce + sealed

    def open(self, sealed: bytes, *, round_id: int, voter_key: str) -> dict[str, int]:
        """The choices of a sealed ballot; raises BallotKeyError when its key is not in the
        keyring or the ballot (or its round or voter key) was altered."""
        sealed = bytes(sealed)
        if len(sealed) <= HEADER_BYTES or sealed[0] != VERSION:
            raise BallotKeyError("not a sealed ballot of a known version")
        cipher = self._by_id.get(sealed[1:1 + KEY_ID_BYTES])
        if cipher is None:
            raise BallotKeyError("the key that sealed this ballot is not configured")
        nonce = sealed[1 + KEY_ID_BYTES:HEADER_BYTES]
        try:
            plain = cipher.decrypt(nonce, sealed[HEADER_BYTES:],
                                   _associated(round_id, voter_key))
        except InvalidTag:
            raise BallotKeyError("the ballot was altered or moved") from None
        return json.loads(plain)

    def sealed_with(self, sealed: bytes) -> bytes:
        """The id of the key that sealed ``sealed``."""
        return bytes(sealed)[1:1 + KEY_ID_BYTES]


@dataclass(frozen=True)
class VoteKeys:
    """What casting and counting take from configuration: the secret of the pseudonyms
    (``BALLOT_SECRET``) and the keyring that seals ballots (``BALLOT_KEYS``)."""

    pseudonym_secret: str
    keyring: Keyring

    @classmethod
    def from_config(cls, config: Mapping) -> "VoteKeys":
        """The vote keys of an application's configuration."""
        return cls(config["BALLOT_SECRET"], Keyring.from_config(config["BALLOT_KEYS"]))
