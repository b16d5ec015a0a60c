"""Imports every model so metadata (and Alembic autogenerate) sees the whole schema."""

from .archive.models import ArchiveJob  # noqa: F401
from .audit import AuditEvent, AuditHead  # noqa: F401
from .auth.models import LoginSession, User  # noqa: F401
from .auth.passkeys import Passkey  # noqa: F401
from .auth.sign_in_domains import SchoolSignInDomain  # noqa: F401
from .auth.two_factor_models import RecoveryCode, TotpCredential  # noqa: F401
from .evidence.models import Evidence  # noqa: F401
from .frameworks.models import Framework, FrameworkSection, Requirement, RequirementResource  # noqa: F401
from .group_access import GroupMembership, SchoolGroup  # noqa: F401
from .groups.models import GroupItem, GroupItemCopy  # noqa: F401
from .library.models import (  # noqa: F401
    LibraryCountryItem,
    LibrarySection,
    LibrarySynonym,
    Resource,
    ResourceSection,
    ResourceTag,
)
from .library_files.models import ResourceFile  # noqa: F401
from .people.models import CheckRecord, ImportJob, Person, RiskAssessment  # noqa: F401
from .policies.models import PolicyAcknowledgement, PolicyDocument, PolicyVersion  # noqa: F401
from .reminders.models import CalendarFeed, DigestState, OutboxMessage, ReminderSetting  # noqa: F401
from .reports.models import Report  # noqa: F401
from .retention.models import PendingFileDeletion, RetentionHold, RetentionRule, Tombstone  # noqa: F401
from .review.models import ReviewMessage, ReviewQuery  # noqa: F401
from .schools.models import Invitation  # noqa: F401
from .tenancy import Membership, School  # noqa: F401
from .tracking.holders import RoleHolder  # noqa: F401
from .tracking.models import AnswerVersion, Comment, Item, SchoolYear, SchoolYearFramework  # noqa: F401
from .tracking.terms import SchoolTerm  # noqa: F401
from .training.models import TrainingAttendance, TrainingSession  # noqa: F401
