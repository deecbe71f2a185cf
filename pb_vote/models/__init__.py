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
from pb_vote.models.comments import (
    COMMENT_MAX_LENGTH,
    REPORT_REASON_MAX_LENGTH,
    Comment,
    CommentMailing,
    CommentReport,
    HiddenReason,
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
    "COMMENT_MAX_LENGTH",
    "FROZEN_SETTINGS",
    "GENESIS_HASH",
    "LANGUAGES",
    "REPORT_REASON_MAX_LENGTH",
    "AuditEvent",
    "Ballot",
    "BallotKind",
    "BallotReceipt",
    "Comment",
    "CommentMailing",
    "CommentReport",
    "Count",
    "CountStatus",
    "FileSlice",
    "HiddenReason",
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
    "Round",
    "RoundPhase",
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
