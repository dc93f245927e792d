"""What the accounts API takes and gives. Inputs forbid unknown fields."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bandstand.accounts.passwords import is_common
from bandstand.kit.text import plain
from bandstand.songs.quota_view import QuotaRead

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,30}$")


def _username(value: str) -> str:
    if not USERNAME.fullmatch(value):
        raise ValueError("Username must be 3–30 letters, digits, '_', '.' or '-'.")
    return value


def _password(value: str) -> str:
    if is_common(value):
        raise ValueError("This password is too common; choose another.")
    return value


def _email(value: str) -> str:
    return value.lower()


Email = Annotated[
    EmailStr, StringConstraints(max_length=254), AfterValidator(plain), AfterValidator(_email)
]
Username = Annotated[str, StringConstraints(max_length=30), AfterValidator(_username)]
Fullname = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(plain),
]
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=128),
    AfterValidator(plain),
    AfterValidator(_password),
]
AnyPassword = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(plain)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=254), AfterValidator(plain)]
Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
# An authenticator's six digits, or a recovery code ("1a2b3-c4d5e").
TwoFactorCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=6, max_length=32),
    AfterValidator(plain),
]


# What /docs fills its forms with ("Try it out"): the README's walk-through, not "string".
EXAMPLE_FULLNAME, EXAMPLE_EMAIL, EXAMPLE_USERNAME = "Jane Doe", "jane@example.com", "janedoe"
EXAMPLE_PASSWORD = "a-long-and-unusual-passphrase"  # noqa: S105 - an example, not a secret


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterForm(BaseModel):
    # A form: the avatar file arrives beside these fields, and nothing else is read.
    model_config = ConfigDict(extra="ignore")

    fullname: Fullname = Field(examples=[EXAMPLE_FULLNAME])
    email: Email = Field(examples=[EXAMPLE_EMAIL])
    username: Username = Field(examples=[EXAMPLE_USERNAME])
    password: Password = Field(examples=[EXAMPLE_PASSWORD])


class VerifyOtpIn(Input):
    otp: Code = Field(examples=["123456"])
    registrationId: uuid.UUID | None = None
    email: Email | None = Field(default=None, examples=[EXAMPLE_EMAIL])


class ResendOtpIn(Input):
    registrationId: uuid.UUID | None = None


class LoginIn(Input):
    email: Login | None = Field(default=None, examples=[EXAMPLE_EMAIL])
    username: Login | None = Field(default=None, examples=[EXAMPLE_USERNAME])
    password: AnyPassword = Field(examples=[EXAMPLE_PASSWORD])
    # With two-factor login on: the authenticator's code, or a recovery code.
    totp: TwoFactorCode | None = Field(default=None, examples=["123456"])

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginIn:
        if not (self.email or self.username):
            raise ValueError("Give your email or username.")
        return self

    @property
    def identifier(self) -> str:
        return (self.email or self.username or "").strip().lower()


class RefreshIn(Input):
    refreshToken: Annotated[str, StringConstraints(max_length=2048)] | None = None


class ChangePasswordIn(Input):
    """``confirmPassword`` is optional, as our own clients never sent it; the original API
    requires it, so when it comes it must repeat ``newPassword``."""

    oldPassword: AnyPassword = Field(examples=[EXAMPLE_PASSWORD])
    newPassword: Password = Field(examples=["a-brand-new-passphrase"])
    confirmPassword: AnyPassword | None = Field(default=None, examples=["a-brand-new-passphrase"])

    @field_validator("confirmPassword")
    @classmethod
    def _confirms(cls, value: str | None, info: ValidationInfo) -> str | None:
        # newPassword is absent here when it failed its own checks: that error is enough.
        if value is not None and "newPassword" in info.data and value != info.data["newPassword"]:
            raise ValueError("Must be the same as newPassword.")
        return value


class UpdateAccountIn(Input):
    fullname: Fullname | None = Field(default=None, examples=["Jane Q. Doe"])
    email: Email | None = Field(default=None, examples=["jane.doe@example.com"])
    username: Username | None = Field(default=None, examples=["jane.q"])
    currentPassword: AnyPassword | None = Field(default=None, examples=[EXAMPLE_PASSWORD])

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateAccountIn:
        if self.fullname is None and self.email is None and self.username is None:
            raise ValueError("Give at least one of fullname, email or username.")
        return self


class EmailConfirmIn(Input):
    code: Code = Field(examples=["123456"])


class TwoFactorSetupIn(Input):
    password: AnyPassword = Field(examples=[EXAMPLE_PASSWORD])


class TwoFactorEnableIn(Input):
    code: Code = Field(examples=["123456"])


class TwoFactorDisableIn(Input):
    password: AnyPassword = Field(examples=[EXAMPLE_PASSWORD])
    code: TwoFactorCode = Field(examples=["123456"])


class TwoFactorSetupOut(BaseModel):
    """The secret for an authenticator app, and the same as an ``otpauth://`` URI (for a
    QR code)."""

    secret: str
    uri: str


class RecoveryCodesOut(BaseModel):
    recoveryCodes: list[str]


class UserPublic(BaseModel):
    """What anyone may see of a user. It reads its own JSON back (``_id``): answers that
    carry songs get them as ``songs.views.song_view`` writes them, owner and all."""

    id: uuid.UUID = Field(serialization_alias="_id", validation_alias=AliasChoices("id", "_id"))
    username: str
    fullname: str
    avatar: str | None


class UserPrivate(UserPublic):
    """What a user sees of themselves."""

    email: str
    role: str
    twoFactor: bool
    createdAt: datetime
    updatedAt: datetime


class CurrentUserOut(UserPrivate):
    quota: QuotaRead


class AccountUpdated(UserPrivate):
    """``pendingEmail``: the new address, waiting for the code sent to it."""

    pendingEmail: str | None = None


class SignupStarted(BaseModel):
    registrationId: uuid.UUID
    email: str
    expiresIn: int


class LoginOut(BaseModel):
    user: UserPrivate
    accessToken: str
    refreshToken: str


class TokensOut(BaseModel):
    accessToken: str
    refreshToken: str


class ProfileOut(UserPublic):
    createdAt: datetime
    songs: list[dict[str, object]]
    playlists: list[dict[str, object]]


class ContentOut(BaseModel):
    songs: list[dict[str, object]]
    playlists: list[dict[str, object]]


class LoginRead(BaseModel):
    """One of the caller's logins: a device or browser they signed in on."""

    id: uuid.UUID = Field(serialization_alias="_id")
    createdAt: datetime = Field(description="When they signed in there")
    userAgent: str | None = Field(description="The browser or app, as it named itself")
    current: bool = Field(description="The login this request was made with")


AppPasswordName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(plain),
]


class AppPasswordIn(Input):
    """An app password for a music app: ``name`` says which app or device it is for."""

    name: AppPasswordName = Field(examples=["Symfonium on my phone"])


class AppPasswordRead(BaseModel):
    """One of the caller's app passwords: never its secret."""

    id: uuid.UUID = Field(serialization_alias="_id")
    name: str
    createdAt: datetime
    lastUsedAt: datetime | None = Field(description="When a music app last used it")


class AppPasswordCreated(AppPasswordRead):
    """A new app password, with what to type into the music app: the server's address,
    the username, and the secret as the password. The secret is shown this once."""

    secret: str
    username: str
    server: str
