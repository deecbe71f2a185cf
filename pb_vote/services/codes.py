"""The cryptography of codes and pseudonyms. Pure: stdlib only, no database.

Voting codes and receipt codes share one alphabet and one shape; only their SHA-256 is
stored. A voter's ballot and receipt are stored under HMAC pseudonyms keyed by the ballot
secret (configuration, never the database), so the database alone cannot tell whose they
are, nor produce a voter's receipt code.
"""

import hashlib
import hmac
import secrets
from typing import Protocol

# Codes: no look-alike characters (no 0/O, 1/I/L), typed in groups of four, any case.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16  # 31^16 ≈ 2^79: far beyond guessing, even without the rate limit


class Pseudonymous(Protocol):
    """Whoever the pseudonyms are for (a ``voting.Voter``): a stable name to key them by."""

    @property
    def reference(self) -> str: ...


def normalize_code(typed: str) -> str:
    """A typed code in canonical form: no spaces or dashes, upper case."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def code_hash(typed: str) -> str:
    """The stored hash of a code (voting code or receipt code)."""
    return hashlib.sha256(normalize_code(typed).encode()).hexdigest()


def format_code(code: str) -> str:
    """A code in groups of four for reading and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(typed: str) -> bool:
    """Whether ``typed`` has the shape of a code (so a typo can be told apart from a miss)."""
    canonical = normalize_code(typed)
    return len(canonical) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in canonical)


def _hmac(secret: str, purpose: str, voter: Pseudonymous, round_id: int) -> str:
    message = f"{purpose}|{voter.reference}|round:{round_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def voter_key(secret: str, voter: Pseudonymous, round_id: int) -> str:
    """The pseudonym of a voter's ballot in a round."""
    return _hmac(secret, "ballot", voter, round_id)


def receipt_key(secret: str, voter: Pseudonymous, round_id: int) -> str:
    """The pseudonym of a voter's receipt in a round (different from the ballot's)."""
    return _hmac(secret, "receipt", voter, round_id)


def receipt_code_for(secret: str, voter: Pseudonymous, round_id: int) -> str:
    """The voter's receipt code in a round: the same every time they vote there, so a double
    click or a changed vote never leaves them holding a receipt that no longer counts.
    Derived with the ballot secret, so the database alone cannot produce it."""
    digest = int(_hmac(secret, "receipt-code", voter, round_id), 16)
    symbols = []
    for _ in range(CODE_LENGTH):
        digest, index = divmod(digest, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return "".join(symbols)


def person_key(secret: str, pseudonym: str, round_id: int) -> str:
    """A strongly identified person's pseudonym within one round, stored on their
    participation (unique per round): not joinable across rounds without ``secret``."""
    message = f"person|{pseudonym}|round:{round_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
