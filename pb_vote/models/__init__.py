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
from pb_vote.models.images import ProposalImage
from pb_vote.models.mail import OutgoingMail
from pb_vote.models.notices import NoticeKind, NoticePreference, RoundMailing, SentNotice
from pb_vote.models.pages import SERVICE_PAGES, ServicePageVersion
from pb_vote.models.proposals import Proposal, ProposalOrigin, ProposalStatus
from pb_vote.models.results import (
    FileSlice,
    Publication,
    PublishedReceipt,
    ReceiptSet,
    StoredFile,
)
from pb_vote.models.reviews import Feasibility, FeasibilityRequest, ReviewNote
from pb_vote.models.rounds import (
    FROZEN_SETTINGS,
    BallotKind,
    PaperConflictRule,
    ResidentCheck,
    Round,
    RoundPhase,
    TallyRule,
    VoterEligibility,
)
from pb_vote.models.second_factor import RecoveryCode, SecondFactor
from pb_vote.models.supports import ProposalSupport
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
    "SERVICE_PAGES",
    "AuditEvent",
    "Ballot",
    "BallotKind",
    "BallotReceipt",
    "Comment",
    "CommentMailing",
    "CommentReport",
    "Count",
    "CountStatus",
    "Feasibility",
    "FeasibilityRequest",
    "FileSlice",
    "HiddenReason",
    "LoginSession",
    "MembershipRole",
    "NoticeKind",
    "NoticePreference",
    "OneTimeNonce",
    "OutgoingMail",
    "PaperConflictRule",
    "Participation",
    "Proposal",
    "ProposalImage",
    "ProposalOrigin",
    "ProposalStatus",
    "ProposalSupport",
    "Publication",
    "PublishedReceipt",
    "RateLimitEvent",
    "ReceiptSet",
    "RecoveryCode",
    "ResidentCheck",
    "ReviewNote",
    "Round",
    "RoundMailing",
    "RoundPhase",
    "SecondFactor",
    "SentNotice",
    "ServicePageVersion",
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
