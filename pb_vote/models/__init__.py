"""The data model: one module per concept."""

from pb_vote.models.audit import GENESIS_HASH, AuditEvent
from pb_vote.models.proposals import Proposal, ProposalOrigin, ProposalStatus
from pb_vote.models.rounds import Round, RoundPhase
from pb_vote.models.tables import Table, TablePostalCode
from pb_vote.models.users import (
    LANGUAGES,
    LoginSession,
    MembershipRole,
    OneTimeNonce,
    SignInMethod,
    TableMembership,
    TokenPurpose,
    User,
)

__all__ = [
    "GENESIS_HASH",
    "LANGUAGES",
    "AuditEvent",
    "LoginSession",
    "MembershipRole",
    "OneTimeNonce",
    "Proposal",
    "ProposalOrigin",
    "ProposalStatus",
    "Round",
    "RoundPhase",
    "SignInMethod",
    "Table",
    "TableMembership",
    "TablePostalCode",
    "TokenPurpose",
    "User",
]
