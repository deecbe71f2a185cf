"""Strongly identified residents: one person, one account, one ballot per round.

An identity provider (OpenID Connect: Suomi.fi e-Identification, a bank-ID broker) vouches
for a person's stable identifier, such as the Finnish personal identity code. The service
never stores it: the account holds ``person_pseudonym`` = HMAC-SHA256(PERSON_SECRET,
identifier), the same whichever provider, address or device the person signs in with, and
unique in the database. Of what the provider tells, only what eligibility needs is kept:
the postal code of residence (eligibility then follows it, not the stated one) and the
month of birth (for a round's minimum age). A participation records ``person_key``, a
per-round pseudonym of the person (``codes.person_key``), unique per round
(``voting.cast_ballot``).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import User
from pb_vote.services import voting

POSTAL_CODE_LENGTH = 5  # Finnish postal codes


class IdentityError(ServiceError):
    """A strong identification could not be used."""


@dataclass(frozen=True)
class IdentifiedPerson:
    """What the service keeps of one strong identification."""

    pseudonym: str
    postal_code: str | None  # the verified postal code of residence, when given
    birth_month: str | None  # YYYY-MM, when a date of birth was given


def person_pseudonym(secret: str, identifier: str) -> str:
    """The keyed hash a person is known by. The identifier is trimmed and upper-cased
    (personal identity codes are written either way), so the same person is one pseudonym
    through every provider."""
    normal = "".join(identifier.split()).upper()
    return hmac.new(secret.encode(), f"person|{normal}".encode(), hashlib.sha256).hexdigest()


def claim(claims: dict, path: str | None):
    """The claim at ``path`` (dots go into objects: ``address.postal_code``), or None."""
    if not path:
        return None
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _postal_code(value) -> str | None:
    text = "".join(str(value or "").split())
    return text if len(text) == POSTAL_CODE_LENGTH and text.isdigit() else None


def _birth_month(value) -> str | None:
    try:
        born = date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None
    return f"{born.year:04d}-{born.month:02d}"


def person_from_claims(secret: str, claims: dict, *, person_claim: str,
                       postal_code_claim: str | None = None,
                       birthdate_claim: str | None = None) -> IdentifiedPerson:
    """The person a provider's verified claims describe. Raises
    IdentityError("identity_incomplete") when the person's identifier is missing."""
    identifier = claim(claims, person_claim)
    if not isinstance(identifier, str) or not identifier.strip():
        raise IdentityError("identity_incomplete")
    return IdentifiedPerson(
        person_pseudonym(secret, identifier),
        _postal_code(claim(claims, postal_code_claim)),
        _birth_month(claim(claims, birthdate_claim)),
    )


def find_identified(pseudonym: str) -> User | None:
    """The account of the identified person, if they have one."""
    return db.session.execute(
        select(User).where(User.person_pseudonym == pseudonym)).scalar_one_or_none()


def sign_in_identified(person: IdentifiedPerson, language: str,
                       signed_in: User | None = None) -> tuple[User, bool]:
    """The account of ``person`` (flushes; the caller commits) and whether it is new.

    The person's own account when they have one; else the resident account signed in in
    this browser becomes theirs (a resident who signed in by email and now identifies);
    else a new account without an email address. Two first sign-ins of one person at the
    same moment (two providers, two tabs) make one account: the unique pseudonym decides.
    Raises IdentityError("staff_identified") when the account is staff's (staff sign in
    with a password)."""
    user = find_identified(person.pseudonym)
    created = False
    if user is None:
        try:
            with db.session.begin_nested():
                if signed_in is not None and not signed_in.is_identified and not (
                        signed_in.is_staff):
                    user = signed_in
                    user.person_pseudonym = person.pseudonym
                else:
                    user = User(email=None, language=language,
                                person_pseudonym=person.pseudonym)
                    db.session.add(user)
                    created = True
                db.session.flush()
        except IntegrityError:
            if signed_in is not None:
                db.session.refresh(signed_in)
            user, created = find_identified(person.pseudonym), False
            if user is None:
                raise
    if user.is_staff:
        raise IdentityError("staff_identified")
    _record_verified(user, person)
    user.last_sign_in_at = clock.utcnow()
    db.session.flush()
    return user, created


def _record_verified(user: User, person: IdentifiedPerson) -> None:
    """Keep what the provider verified this time. A verified move out of the area of an
    open round the person voted in waits until that round closes, as a stated one does
    (the person could vote in a second table's round at the same time)."""
    moved = person.postal_code and person.postal_code != user.verified_postal_code
    if moved and voting.open_round_left_by_moving(
            user, person.postal_code, clock.utcnow()) is None:
        user.verified_postal_code = person.postal_code
    if person.birth_month:
        user.birth_month = person.birth_month
