"""The data model: one module per concept."""

from pb_vote.models.audit import GENESIS_HASH, AuditEvent
from pb_vote.models.ballots import (
    Ballot,
    BallotReceipt,
    Participation,
    RateLimitEvent,
    TurnoutCount,
    VoteChannel,
    VotingCode,
    VotingCodeBatch,
)
from pb_vote.models.counts import Count, CountStatus
from pb_vote.models.mail import OutgoingMail
from pb_vote.models.proposals import Proposal, ProposalOrigin, ProposalStatus
from pb_vote.models.results import (
    FileSlice,
    Publication,
    PublishedReceipt,
    ReceiptSet,
    StoredFile,
)
from pb_vote.models.rounds import (
    FROZEN_SETTINGS,
    BallotKind,
    PaperConflictRule,
    Round,
    RoundPhase,
    TallyRule,
    VoterEligibility,
)
from pb_vote.models.second_factor import RecoveryCode, SecondFactor
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
    "FROZEN_SETTINGS",
    "GENESIS_HASH",
    "LANGUAGES",
    "AuditEvent",
    "Ballot",
    "BallotKind",
    "BallotReceipt",
    "Count",
    "CountStatus",
    "FileSlice",
    "LoginSession",
    "MembershipRole",
    "OneTimeNonce",
    "OutgoingMail",
    "PaperConflictRule",
    "Participation",
    "Proposal",
    "ProposalOrigin",
    "ProposalStatus",
    "Publication",
    "PublishedReceipt",
    "RateLimitEvent",
    "ReceiptSet",
    "RecoveryCode",
    "Round",
    "RoundPhase",
    "SecondFactor",
    "SignInMethod",
    "StoredFile",
    "Table",
    "TableMembership",
    "TablePostalCode",
    "TallyRule",
    "TokenPurpose",
    "TurnoutCount",
    "User",
    "VoteChannel",
    "VoterEligibility",
    "VotingCode",
    "VotingCodeBatch",
]
