from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.schemas.common import Email, Name, Phone, RequestBody


def _bcrypt_sized(value: str) -> str:
    if len(value.encode()) > 72:
        raise ValueError("password must be at most 72 bytes long (UTF-8)")
    if "\x00" in value:
        raise ValueError("password must not contain NUL")
    return value


Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=72,
        pattern=r"^[^\x00]*$",
        description="At least 8 characters and at most 72 bytes in UTF-8 (bcrypt's limit).",
    ),
    AfterValidator(_bcrypt_sized),
]
OpaqueToken = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class RegisterRequest(RequestBody):
    email: Email
    password: Password
    full_name: Name
    business_name: Name
    phone: Phone | None = None

    model_config = RequestBody.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "asha@example.in",
                    "password": "a-long-secret",
                    "full_name": "Asha Rao",
                    "business_name": "Rao Traders",
                    "phone": "+91 98450 12345",
                }
            ]
        }
    }


class LoginRequest(RequestBody):
    email: Email
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(RequestBody):
    refresh_token: OpaqueToken


class TokenRequest(RequestBody):
    token: OpaqueToken


class EmailRequest(RequestBody):
    email: Email


class ResetPasswordRequest(RequestBody):
    token: OpaqueToken
    new_password: Password


class ChangePasswordRequest(RequestBody):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: Password


class AcceptInviteRequest(RequestBody):
    token: OpaqueToken
    full_name: Name
    password: Password
