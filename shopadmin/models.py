"""Platform and tenancy models.

Platform tables (not tenant data): ``User``, ``Shop`` (the tenant itself) and
``Membership`` (who may enter which shop — it is read before a shop is entered, so it
cannot sit behind the tenant context). Everything else here is tenant data.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from shopadmin.roles import Role
from shopadmin.tenancy import TenantModel
from shopadmin.validators import (
    validate_country_code,
    validate_currency_code,
    validate_language,
    validate_timezone,
)
from shopadmin.words import Words, render

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lowercase letters, digits and hyphens, not starting or ending with a hyphen."),
)


class EmailUserManager(UserManager):
    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person. Signs in with an email address; staff (is_staff) operate the platform."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(max_length=10, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        return self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Shop(models.Model):
    """The tenant."""

    name = models.CharField(max_length=120)
    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    default_currency = models.CharField(
        max_length=3, validators=[validate_currency_code], help_text=_("ISO 4217, e.g. USD")
    )
    default_language = models.CharField(
        max_length=10, default="en", validators=[validate_language], help_text=_("e.g. en, fr-CA")
    )
    country = models.CharField(
        max_length=2, validators=[validate_country_code], help_text=_("ISO 3166-1 alpha-2, e.g. US")
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="membership_unique_shop_user")]
        ordering = ["shop", "user__email"]

    def __str__(self):
        return f"{self.user} · {self.shop} · {self.role}"

    def has_perm(self, perm: str) -> bool:
        return Role(self.role).has_perm(perm)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(TenantModel):
    """A teammate invited by email; accepting it creates the membership."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, db_index=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.UniqueConstraint(fields=["shop", "token_hash"], name="invitation_unique_token"),
        ]

    def __str__(self):
        return f"{self.email} ({self.role})"

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_token(token)

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now()


class ApiScope(models.TextChoices):
    CATALOG_READ = "catalog:read", _("Read products, variants and stock")
    CATALOG_WRITE = "catalog:write", _("Change products, variants and stock")
    LOCALIZATION_READ = "localization:read", _("Read markets, rates, prices; quote landed cost")
    LOCALIZATION_WRITE = "localization:write", _("Change markets, rates and prices")
    CHANNELS_READ = "channels:read", _("Read channel accounts, listings and publish plans")
    CHANNELS_WRITE = "channels:write", _("Change channel accounts and listings; publish")
    ORDERS_READ = "orders:read", _("Read orders and reconciliation")
    ORDERS_WRITE = "orders:write", _("Fulfil and cancel orders; run reconciliation")


class ApiKey(TenantModel):
    """A partner's key: one shop, some scopes. Only a hash of the secret is stored."""

    PREFIX = "sa"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="apikey_unique_shop_name"),
            models.UniqueConstraint(fields=["shop", "prefix"], name="apikey_unique_shop_prefix"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """Return (full key, prefix, hash). The full key is shown once and never stored."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        key = f"{cls.PREFIX}_{prefix}_{secret}"
        return key, prefix, _hash_token(key)

    @staticmethod
    def parse_prefix(key: str) -> str | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != ApiKey.PREFIX or not parts[1] or not parts[2]:
            return None
        return parts[1]

    def matches(self, key: str) -> bool:
        return secrets.compare_digest(self.key_hash, _hash_token(key))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class Door(models.TextChoices):
    """Through which door a change came in."""

    UI = "ui", _("Merchant UI")
    API = "api", _("API")
    ADMIN = "admin", _("Staff admin")
    TASK = "task", _("Background task")
    WEBHOOK = "webhook", _("Channel webhook")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")


class AuditLogEntry(TenantModel):
    """Who changed what, when, and through which door. Written only by services."""

    created_at = models.DateTimeField(default=now, db_index=True)
    door = models.CharField(max_length=10, choices=Door.choices)
    actor_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The object's description as words (shopadmin.words) when it says more than names:
    # `object_repr` keeps its English text for the export and the search.
    object_words = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"], name="audit_shop_created")]

    def __str__(self):
        return f"{self.action} {self.object_repr}"

    @property
    def object_text(self) -> str:
        """What the entry is about, in the reader's language when it was written as words."""
        return (render(self.object_words) or self.object_repr) if self.object_words else self.object_repr

    @property
    def action_words(self) -> str:
        """What was done, as a sentence in the reader's language (shopadmin.audit_words)."""
        from shopadmin.audit_words import action_words

        return action_words(self.action)

    @property
    def actor_words(self) -> str:
        """Who did it, in words: a background task by what it does, not by its code name."""
        from shopadmin.audit_words import actor_words

        return actor_words(self.actor_label, self.door)

    @property
    def change_rows(self) -> list[tuple[str, object, object]]:
        """(field name in words, old, new) per change. Templates use this, not `changes.items`: a change
        named "items" would shadow the dict method there. A summary value (not an
        [old, new] pair) reads as a new value."""
        from shopadmin.audit_words import field_words, value_words

        rows = []
        for name, value in (self.changes or {}).items():
            label = field_words(self.model, name) if self.model else name
            if isinstance(value, list | tuple) and len(value) == 2:
                old, new = (value_words(self.model, name, v) if self.model else v for v in value)
                rows.append((label, old, new))
            else:
                rows.append((label, None, value))
        return rows


class Job(TenantModel):
    """Long work run by a task (imports, publishing, recomputation), with progress to show."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=50)
    label = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The label's English text and values when it was given as words (shopadmin.words).
    label_words = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def title(self) -> str:
        """The label in the reader's language when it was given as words, else as stored."""
        return (render(self.label_words) or self.label) if self.label_words else self.label

    def audit_words(self) -> Words:
        what = Words.from_data(self.label_words) if self.label_words else self.label
        return Words(gettext_noop("Job %(id)s: %(what)s"), id=self.pk, what=what)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def status_label(self) -> str:
        """The status in words, honest about a finished job whose items were partly refused
        (a publish with rejections is not "Succeeded")."""
        result = self.result if isinstance(self.result, dict) else {}
        rejected = result.get("rejected") or 0
        if self.status == self.Status.SUCCEEDED and isinstance(rejected, int) and rejected > 0:
            return _("Finished: %(accepted)s accepted, %(rejected)s rejected") % {
                "accepted": result.get("accepted") or 0,
                "rejected": rejected,
            }
        return str(self.get_status_display())


class IdempotencyRecord(TenantModel):
    """The first response to a POST sent with an `Idempotency-Key`, replayed on retries."""

    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["shop", "key"], name="idempotency_unique_shop_key")]

    def __str__(self):
        return self.key
