"""Authentication: the ``identity`` methods and the requested scope become a :class:`Grant`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ocx.common import errors
from ocx.common.auth import Principal
from ocx.identity import assignments
from ocx.identity.assignments import Target
from ocx.identity.models import ApplicationCredential, Domain, OAuthAccessToken, Project, User
from ocx.identity.passwords import Hasher
from ocx.identity.tokens import Grant, Scope

FAILED = "The request you have made requires authentication."

VerifyToken = Callable[[str], Awaitable[Principal]]
# Checks the OAuth1 signature of the request being served; returns the access token it shows.
OAuth1Check = Callable[[AsyncSession], Awaitable[OAuthAccessToken]]


class DomainRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None


class UserRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    domain: DomainRef | None = None
    password: str | None = None


class PasswordMethod(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserRef


class TokenMethod(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str


class AppCredMethod(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    secret: str
    user: UserRef | None = None


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    methods: list[str]
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: AppCredMethod | None = None
    # OAuth1's proof is the request's signed Authorization header; the body carries nothing.
    oauth1: dict[str, Any] | None = None


class ProjectRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None
    domain: DomainRef | None = None


class ScopeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: ProjectRef | None = None
    domain: DomainRef | None = None
    system: dict[str, bool] | None = None
    trust: dict[str, Any] | None = Field(None, alias="OS-TRUST:trust")


class AuthRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identity: Identity
    scope: ScopeRequest | str | None = None


class Authenticator:
    def __init__(
        self,
        session: AsyncSession,
        hasher: Hasher,
        verify_token: VerifyToken,
        oauth1: OAuth1Check | None = None,
    ):
        self.session = session
        self.hasher = hasher
        self.verify_token = verify_token
        self.oauth1 = oauth1

    async def authenticate(self, req: AuthRequest, header_token: str | None) -> Grant:
        methods = req.identity.methods
        known = ("password", "token", "application_credential", "oauth1")
        if len(methods) != 1 or methods[0] not in known:
            raise errors.Unauthorized(
                f"Unsupported authentication method(s): {', '.join(methods)}."
            )
        if methods[0] == "oauth1":
            return await self._oauth1(req.scope)
        if methods[0] == "password":
            grant = await self._password(req.identity.password)
        elif methods[0] == "token":
            grant = await self._token(req.identity.token, header_token)
        else:
            return await self._app_cred(req.identity.application_credential, req.scope)
        await self._scope(grant, req.scope)
        return grant

    async def _password(self, method: PasswordMethod | None) -> Grant:
        if method is None or method.user.password is None:
            raise errors.ValidationError("Expecting to find password in identity.")
        user = await self._find_user(method.user)
        if not await self.hasher.verify(user.password_hash, method.user.password):
            raise errors.Unauthorized(FAILED)
        domain = await self._live_user_domain(user)
        return Grant(user=user, user_domain=domain, methods=["password"], scope=Scope())

    async def _token(self, method: TokenMethod | None, header_token: str | None) -> Grant:
        token = method.id if method is not None else header_token
        if not token:
            raise errors.ValidationError("Expecting to find token id in identity.")
        prior = await self.verify_token(token)
        if prior.app_cred_id is not None:
            raise errors.Forbidden("A token from an application credential cannot be rescoped.")
        if "OS-OAUTH1" in prior.claims:
            raise errors.Forbidden(
                "A token from OAuth1 cannot be rescoped; authenticate with the access token again."
            )
        user = await self.session.get(User, prior.user_id)
        if user is None or not user.enabled:
            raise errors.Unauthorized(FAILED)
        domain = await self._live_user_domain(user)
        methods = list(dict.fromkeys([*prior.methods, "token"]))
        grant = Grant(
            user=user,
            user_domain=domain,
            methods=methods,
            scope=Scope(),
            audit_chain_id=prior.audit_chain_id,
            expires_at=prior.expires_at,
        )
        for key in ("OS-FEDERATION",):
            if key in prior.claims:
                grant.extra_claims[key] = prior.claims[key]
        return grant

    async def _app_cred(
        self, method: AppCredMethod | None, scope: ScopeRequest | str | None
    ) -> Grant:
        if method is None:
            raise errors.ValidationError("Expecting to find application_credential in identity.")
        if scope:
            raise errors.ValidationError(
                "An application credential is bound to its project; do not request a scope."
            )
        cred = await self._find_app_cred(method)
        if not await self.hasher.verify(cred.secret_hash, method.secret):
            raise errors.Unauthorized(FAILED)
        if cred.expires_at is not None and cred.expires_at.replace(tzinfo=UTC) <= datetime.now(UTC):
            raise errors.Unauthorized("The application credential has expired.")
        user = await self.session.get(User, cred.user_id)
        if user is None or not user.enabled:
            raise errors.Unauthorized(FAILED)
        domain = await self._live_user_domain(user)
        grant = Grant(
            user=user,
            user_domain=domain,
            methods=["application_credential"],
            scope=Scope(),
            app_cred=cred,
        )
        project = await self._live_project(await self.session.get(Project, cred.project_id))
        grant.scope = Scope(
            project=project, project_domain=await self.session.get(Domain, project.domain_id)
        )
        held = await assignments.effective_role_ids(
            self.session, user.id, Target.project(project.id)
        )
        kept = held & set(cred.role_ids)
        if not kept:
            raise errors.Unauthorized(
                "The user no longer holds any role of the application credential."
            )
        grant.roles = await assignments.roles_by_id(self.session, kept)
        return grant

    async def _oauth1(self, scope: ScopeRequest | str | None) -> Grant:
        """A token for the user who authorised the access token, on its project, with the
        authorised roles the user still holds (none left: refused)."""
        if self.oauth1 is None:
            raise errors.Unauthorized(FAILED)
        if scope:
            raise errors.ValidationError(
                "An OAuth1 access token is bound to its project; do not request a scope."
            )
        access = await self.oauth1(self.session)
        user = await self.session.get(User, access.authorizing_user_id)
        if user is None or not user.enabled:
            raise errors.Unauthorized(FAILED)
        domain = await self._live_user_domain(user)
        project = await self._live_project(await self.session.get(Project, access.project_id))
        held = await assignments.effective_role_ids(
            self.session, user.id, Target.project(project.id)
        )
        # The authorised roles (and the roles they imply), as far as the user still holds them.
        kept = held & await assignments.expand_implied(self.session, set(access.role_ids))
        if not kept:
            raise errors.Unauthorized("The user no longer holds any role of the access token.")
        return Grant(
            user=user,
            user_domain=domain,
            methods=["oauth1"],
            scope=Scope(
                project=project, project_domain=await self.session.get(Domain, project.domain_id)
            ),
            roles=await assignments.roles_by_id(self.session, kept),
            audit_chain_id=access.audit_chain_id,
            expires_at=access.expires_at.replace(tzinfo=UTC).timestamp(),
            extra_claims={
                "OS-OAUTH1": {"access_token_id": access.id, "consumer_id": access.consumer_id}
            },
        )

    async def _find_app_cred(self, method: AppCredMethod) -> ApplicationCredential:
        cred: ApplicationCredential | None
        if method.id:
            cred = await self.session.get(ApplicationCredential, method.id)
        elif method.name and method.user:
            user = await self._find_user(method.user)
            cred = await self.session.scalar(
                select(ApplicationCredential).filter_by(user_id=user.id, name=method.name)
            )
        else:
            raise errors.ValidationError(
                "An application credential needs an id, or a name and a user."
            )
        if cred is None:
            raise errors.Unauthorized(FAILED)
        return cred

    async def _find_user(self, ref: UserRef) -> User:
        user: User | None
        if ref.id:
            user = await self.session.get(User, ref.id)
        elif ref.name and ref.domain:
            domain = await self._find_domain(ref.domain, unauthorized=True)
            user = await self.session.scalar(
                select(User).filter_by(name=ref.name, domain_id=domain.id)
            )
        else:
            raise errors.ValidationError("A user needs an id, or a name and a domain.")
        if user is None or not user.enabled:
            raise errors.Unauthorized(FAILED)
        return user

    async def _find_domain(self, ref: DomainRef, *, unauthorized: bool = False) -> Domain:
        domain: Domain | None
        if ref.id:
            domain = await self.session.get(Domain, ref.id)
        elif ref.name:
            domain = await self.session.scalar(select(Domain).filter_by(name=ref.name))
        else:
            raise errors.ValidationError("A domain needs an id or a name.")
        if domain is None:
            if unauthorized:
                raise errors.Unauthorized(FAILED)
            raise errors.Unauthorized(f"Could not find domain: {ref.id or ref.name}.")
        return domain

    async def _live_user_domain(self, user: User) -> Domain:
        domain = await self.session.get(Domain, user.domain_id)
        if domain is None or not domain.enabled:
            raise errors.Unauthorized(FAILED)
        return domain

    async def _live_project(self, project: Project | None) -> Project:
        if project is None or not project.enabled:
            raise errors.Unauthorized("The project is disabled or does not exist.")
        domain = await self.session.get(Domain, project.domain_id)
        if domain is None or not domain.enabled:
            raise errors.Unauthorized("The project's domain is disabled.")
        return project

    async def _scope(self, grant: Grant, req: ScopeRequest | str | None) -> None:
        if req == "unscoped":
            return
        if isinstance(req, str):
            raise errors.ValidationError(f"Unknown scope {req!r}.")
        if req is None:
            await self._default_project_scope(grant)
            return
        if req.trust is not None:
            raise errors.NotImplementedYet("Trusts are not supported by OCX.")
        if req.project is not None:
            project = await self._find_project(req.project)
            grant.scope = Scope(
                project=project, project_domain=await self.session.get(Domain, project.domain_id)
            )
            target = Target.project(project.id)
        elif req.domain is not None:
            domain = await self._find_domain(req.domain)
            if not domain.enabled:
                raise errors.Unauthorized("The domain is disabled.")
            grant.scope, target = Scope(domain=domain), Target.domain(domain.id)
        elif req.system is not None:
            grant.scope, target = Scope(system=True), Target.system()
        else:
            return
        await self._roles_or_refuse(grant, target)

    async def _roles_or_refuse(self, grant: Grant, target: Target) -> None:
        role_ids = await assignments.effective_role_ids(self.session, grant.user.id, target)
        if not role_ids:
            raise errors.Unauthorized(
                f"User {grant.user.id} has no access to {target.type} {target.id}."
            )
        grant.roles = await assignments.roles_by_id(self.session, role_ids)

    async def _default_project_scope(self, grant: Grant) -> None:
        project_id = grant.user.default_project_id
        project = await self.session.get(Project, project_id) if project_id else None
        if project is None or not project.enabled:
            return
        target = Target.project(project.id)
        role_ids = await assignments.effective_role_ids(self.session, grant.user.id, target)
        if role_ids:
            grant.scope = Scope(
                project=project, project_domain=await self.session.get(Domain, project.domain_id)
            )
            grant.roles = await assignments.roles_by_id(self.session, role_ids)

    async def _find_project(self, ref: ProjectRef) -> Project:
        project: Project | None
        if ref.id:
            project = await self.session.get(Project, ref.id)
        elif ref.name and ref.domain:
            domain = await self._find_domain(ref.domain)
            project = await self.session.scalar(
                select(Project).filter_by(name=ref.name, domain_id=domain.id)
            )
        else:
            raise errors.ValidationError("A project needs an id, or a name and a domain.")
        if project is None:
            raise errors.Unauthorized(f"Could not find project: {ref.id or ref.name}.")
        return await self._live_project(project)
