"""Staff sign-in through the city's own OpenID Connect provider (Entra ID or similar).

The provider vouches for a work address; the address leads to an EXISTING staff account, or
nowhere: nothing is created from claims, and roles stay with the city admin, who gives them
to people's work addresses on /admin. A resident's account never becomes staff this way.
The provider's own multi-factor sign-in counts as the staff second factor only when the
city says it trusts it (``mfa_from_claims``).
"""

from pb_vote.models import User
from pb_vote.services import accounts
from pb_vote.services.identity import IdentityError

EMAIL = "email"  # the standard claim, which counts only with email_verified true
MFA = "mfa"  # RFC 8176: multiple-factor authentication


def work_email(claims: dict, email_claim: str = EMAIL) -> str:
    """The work address the provider vouches for, normalized. The standard ``email`` claim
    counts only when ``email_verified`` is true; another configured claim
    (``preferred_username``, ``upn``) is the directory's own name for the person."""
    value = claims.get(email_claim)
    if not isinstance(value, str) or "@" not in value.strip():
        raise IdentityError("staff_email_unverified")
    if email_claim == EMAIL and claims.get("email_verified") not in (True, "true"):
        raise IdentityError("staff_email_unverified")
    return accounts.normalize_email(value)


def staff_account(email: str) -> User:
    """The staff account of ``email``; a refusal when there is none (also when the address
    is a resident's: only the city admin makes staff)."""
    user = accounts.find_user_by_email(email)
    if user is None or not user.is_staff:
        raise IdentityError("staff_account_missing", email=email)
    return user


def mfa_from_claims(claims: dict, acr_values: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether the ID token says the person signed in with several factors: ``amr`` lists
    "mfa", or ``acr`` is one of ``acr_values``."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return MFA in amr or (bool(acr_values) and claims.get("acr") in acr_values)
