"""OAuth 2.0 errors, rendered by ``api.py`` as ``{"error", "error_description"}`` (RFC 6749 §5.2).

    OAuthError        400  invalid_request, invalid_grant, unauthorized_client, invalid_scope,
    │                      unsupported_grant_type, unsupported_response_type
    ├── InvalidClient 401  invalid_client: client authentication failed
    ├── InvalidToken  401  invalid_token: a bad bearer token at userinfo (RFC 6750 §3.1)
    ├── LoginFailed   401  access_denied: the user did not sign in at the authorization endpoint
    ├── Replayed      400  invalid_grant: a used code or refresh token came back
    └── Redirected    302  an authorization error the client hears at its redirect_uri

The OAuth endpoints never answer in Keystone's error format: OAuth clients parse these.
"""

from __future__ import annotations


class OAuthError(Exception):
    status = 400

    def __init__(self, error: str, description: str):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.headers: dict[str, str] = {}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


class InvalidClient(OAuthError):
    status = 401

    def __init__(self, description: str = "Client authentication failed.", *, basic: bool = False):
        super().__init__("invalid_client", description)
        if basic:
            self.headers["WWW-Authenticate"] = 'Basic realm="oidc"'


class InvalidToken(OAuthError):
    status = 401

    def __init__(self, description: str):
        super().__init__("invalid_token", description)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class LoginFailed(OAuthError):
    status = 401

    def __init__(self, description: str = "The user name or password is wrong."):
        super().__init__("access_denied", description)


class Replayed(OAuthError):
    """A code or refresh token used twice: someone holds a copy, so its family is revoked."""

    def __init__(self, session_id: str, what: str):
        super().__init__("invalid_grant", f"The {what} was already used; its sign-in is revoked.")
        self.session_id = session_id


class Redirected(OAuthError):
    """An authorization request error sent back to the client's (registered) redirect_uri."""

    status = 302

    def __init__(self, error: str, description: str, location: str):
        super().__init__(error, description)
        self.location = location
