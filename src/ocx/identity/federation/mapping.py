"""The federation mapping engine: Keystone's mapping rules, evaluated purely and offline.

A landlord's mapping turns an identity provider's claims (an *assertion*: attribute name to
value, several values joined with ``;``) into local names: a user, groups, and projects with
roles. :func:`evaluate` does that; :func:`validate_rules` checks rules when they are stored.

Errors::

    MappingError (ValueError)   the rules are invalid; the message says where
    ├── NoMatch                 no rule matched, or the matching rules map no user
    └── InvalidAssertion        the assertion is too large, or one value was needed and
                                the assertion gave several (or none after filtering)

Semantics (Keystone's, from its mapping engine and "Mapping Combinations" documentation):

- Every rule whose ``remote`` conditions all hold contributes, in order; the first ``user``
  any of them maps wins, later ones are ignored; groups and projects accumulate.
- A condition needs its attribute present (with at least one non-empty value), so
  ``not_any_of`` on a missing attribute fails the rule. ``any_one_of``/``not_any_of`` only
  decide; ``type`` alone, ``whitelist`` and ``blacklist`` also capture values for ``{N}``,
  numbered in order among themselves (a rule ``[A, any_one_of B, whitelist C]`` offers
  ``{0}`` = A and ``{1}`` = C). A whitelist or blacklist that filters everything still
  matches, with an empty ``{N}``. ``regex`` means ``re.search``, unanchored, as Keystone.
- A ``{N}`` with several values expands: ``group``, each ``groups``/``group_ids`` item and
  each project yield one result per value (per combination, if several ``{N}`` are
  used together). User fields and entry domains need exactly one value.
- A ``;`` written in a rule's ``groups``/``group_ids`` string separates items; values from
  the assertion were split once on input and are never split again.
- Ephemeral users: a missing name is the id, a missing id is the name (and, for Keystone's
  ``REMOTE_USER``, the caller may pass ``remote_user`` as the name of last resort). A
  ``local`` user is reported as mapped; Keystone then ignores the mapped groups, and so
  should the caller.

Security:

- The engine produces names and ids from the IdP's claims and grants nothing. The caller
  (identity) decides: it resolves groups and projects only inside the IdP's domain, drops
  the ones that do not exist there, and accepts a ``local`` user only in a domain the
  landlord lets this IdP speak for (a rule such as ``"name": "{0}", "type": "local"`` would
  otherwise let the IdP pick any local user).
- Keystone-to-Keystone ``JSON:{...}`` group values are not decoded: they would let the IdP
  choose the group's domain. A ``groups`` entry always has the rule's own ``domain``.
- Role names are literal in the mapping (a ``{N}`` in a role name is refused), and schema
  3.0's ``projects_json`` is refused, so an IdP can never name a role the landlord's own
  mapping does not list (DESIGN §3).
- No template injection: rule strings are parsed once into text and ``{N}`` slots; values
  are inserted as data, so ``{0}``, ``;``, ``['admin']`` or regex metacharacters in a claim
  are only ever that text. Values are compared exactly, or searched *by* the landlord's
  patterns, never used as patterns.
- Sizes are bounded (rules, values, expansions). Patterns run on values of up to 64 KiB:
  a landlord should not write backtracking-prone patterns such as ``(a+)+$``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ocx.identity.federation.mapping_schema import (
    Condition,
    DomainSpec,
    GroupSpec,
    LocalEntry,
    MappingError,
    ProjectSpec,
    Template,
    UserSpec,
    parse_rules,
)

__all__ = [
    "DomainRef",
    "GroupRef",
    "InvalidAssertion",
    "MappedIdentity",
    "MappingError",
    "NoMatch",
    "ProjectGrant",
    "evaluate",
    "validate_rules",
]

SEPARATOR = ";"
MAX_ATTRIBUTES = 1024
MAX_VALUE_BYTES = 64 * 1024  # one attribute, all its values together
MAX_ASSERTION_BYTES = 1024 * 1024
MAX_VALUES = 1024  # values of one attribute after splitting
MAX_OUTPUTS = 4096  # groups, group ids and projects one evaluation may produce

Maps = Sequence[tuple[str, ...]]


class NoMatch(MappingError):
    """No rule matched the assertion, or the rules that matched map no user."""


class InvalidAssertion(MappingError):
    """The assertion cannot be mapped: too large, or ambiguous for a single-valued field."""


@dataclass(frozen=True)
class DomainRef:
    """A domain by ``id`` or by ``name`` (exactly one is set)."""

    id: str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id} if self.id is not None else {"name": str(self.name)}


@dataclass(frozen=True)
class GroupRef:
    name: str
    domain: DomainRef

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "domain": self.domain.as_dict()}


@dataclass(frozen=True)
class ProjectGrant:
    """A project the user should hold ``roles`` on; ``domain`` None means the IdP's."""

    name: str
    roles: tuple[str, ...]
    domain: DomainRef | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "roles": [{"name": r} for r in self.roles]}
        if self.domain is not None:
            out["domain"] = self.domain.as_dict()
        return out


@dataclass(frozen=True)
class MappedIdentity:
    """What the rules made of an assertion; ``user_domain`` None means the IdP's domain."""

    user_name: str | None
    user_id: str | None
    user_type: Literal["ephemeral", "local"]
    user_domain: DomainRef | None
    user_email: str | None
    group_ids: tuple[str, ...]
    group_names: tuple[GroupRef, ...]
    projects: tuple[ProjectGrant, ...]

    def as_dict(self) -> dict[str, Any]:
        """The shape ``keystone-manage mapping_engine`` prints."""
        user: dict[str, Any] = {"name": self.user_name, "id": self.user_id}
        user = {k: v for k, v in user.items() if v is not None}
        user["type"] = self.user_type
        if self.user_email is not None:
            user["email"] = self.user_email
        if self.user_domain is not None:
            user["domain"] = self.user_domain.as_dict()
        return {
            "user": user,
            "group_ids": list(self.group_ids),
            "group_names": [g.as_dict() for g in self.group_names],
            "projects": [p.as_dict() for p in self.projects],
        }


def validate_rules(rules: Mapping[str, Any], schema_version: str | None = None) -> None:
    """Raise :class:`MappingError` unless ``rules`` is a valid mapping document.

    ``schema_version`` None means the document's own ``schema_version``, else ``1.0``;
    a given one must agree with the document's.
    """
    parse_rules(rules, schema_version)


def evaluate(
    rules: Mapping[str, Any],
    assertion: Mapping[str, str | list[str]],
    schema_version: str | None = None,
    *,
    remote_user: str | None = None,
) -> MappedIdentity:
    """Map ``assertion`` through ``rules``; raises :class:`NoMatch` when nothing applies."""
    ruleset = parse_rules(rules, schema_version)
    attributes = _normalise(assertion)
    result = _Result()
    matched = False
    for rule in ruleset.rules:
        maps = _match(rule.remote, attributes)
        if maps is None:
            continue
        matched = True
        for entry in rule.local:
            result.add(entry, maps)
    if not matched:
        raise NoMatch("no rule matched the assertion")
    return result.identity(remote_user)


# -- the assertion ------------------------------------------------------------------------


def _normalise(assertion: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Split values on ';', drop empty and repeated ones; non-string claims are ignored."""
    if len(assertion) > MAX_ATTRIBUTES:
        raise InvalidAssertion(f"assertion: more than {MAX_ATTRIBUTES} attributes")
    out: dict[str, tuple[str, ...]] = {}
    total = 0
    for name, raw in assertion.items():
        chunks = _chunks(raw)
        if not isinstance(name, str) or chunks is None:
            continue  # as Keystone: a number or an object can never match a rule
        size = sum(len(c.encode()) for c in chunks)
        total += size
        if size > MAX_VALUE_BYTES:
            raise InvalidAssertion(f"assertion[{name!r}]: larger than {MAX_VALUE_BYTES} bytes")
        if total > MAX_ASSERTION_BYTES:
            raise InvalidAssertion(f"assertion: larger than {MAX_ASSERTION_BYTES} bytes")
        values = tuple(dict.fromkeys(v for c in chunks for v in c.split(SEPARATOR) if v))
        if len(values) > MAX_VALUES:
            raise InvalidAssertion(f"assertion[{name!r}]: more than {MAX_VALUES} values")
        out[name] = values
    return out


def _chunks(raw: Any) -> list[str] | None:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return raw
    return None


# -- remote: does a rule apply, and what does it capture ----------------------------------


def _match(
    conditions: Iterable[Condition], attributes: Mapping[str, tuple[str, ...]]
) -> Maps | None:
    """The rule's direct maps (values for ``{0}``, ``{1}``, ...), or None if it fails."""
    maps: list[tuple[str, ...]] = []
    for cond in conditions:
        values = attributes.get(cond.type)
        if not values:
            return None
        if cond.kind == "any_one_of" and not any(_hit(cond, v) for v in values):
            return None
        if cond.kind == "not_any_of" and any(_hit(cond, v) for v in values):
            return None
        if cond.kind == "whitelist":
            values = tuple(v for v in values if _hit(cond, v))
        elif cond.kind == "blacklist":
            values = tuple(v for v in values if not _hit(cond, v))
        if cond.is_direct_map:
            maps.append(values)
    return maps


def _hit(cond: Condition, value: str) -> bool:
    if cond.patterns is None:
        return value in cond.values
    return any(p.search(value) for p in cond.patterns)


# -- local: fill in and accumulate --------------------------------------------------------


def _combinations(templates: Iterable[Template | None], maps: Maps) -> list[dict[int, str]]:
    """Every assignment of values to the ``{N}`` the templates use (one per combination)."""
    indexes = sorted({i for t in templates if t is not None for i in t.indexes})
    pools = [maps[i] for i in indexes]
    if math.prod(len(p) for p in pools) > MAX_OUTPUTS:
        raise InvalidAssertion(f"assertion: expands to more than {MAX_OUTPUTS} results")
    return [dict(zip(indexes, combo, strict=True)) for combo in itertools.product(*pools)]


def _single(templates: Iterable[Template | None], maps: Maps) -> dict[int, str]:
    """The one assignment for single-valued fields; several or no values is an error."""
    values: dict[int, str] = {}
    for template in (t for t in templates if t is not None):
        for i in sorted(template.indexes):
            if len(maps[i]) != 1:
                raise InvalidAssertion(
                    f"{template.where}: {{{i}}} has {len(maps[i])} values here, not one; "
                    "narrow it with a whitelist"
                )
            values[i] = maps[i][0]
    return values


def _fill(template: Template | None, values: Mapping[int, str]) -> str | None:
    return None if template is None else template.fill(values)


def _domain(spec: DomainSpec | None, values: Mapping[int, str]) -> DomainRef | None:
    if spec is None:
        return None
    text = spec.value.fill(values)
    return DomainRef(id=text) if spec.field == "id" else DomainRef(name=text)


def _domain_template(spec: DomainSpec | None) -> Template | None:
    return None if spec is None else spec.value


@dataclass
class _User:
    name: str | None
    id: str | None
    email: str | None
    domain: DomainRef | None
    type: Literal["ephemeral", "local"]


@dataclass
class _Result:
    """What the matching rules have mapped so far, de-duplicated and in first-seen order."""

    user: _User | None = None
    group_ids: dict[str, None] = field(default_factory=dict)
    group_names: dict[GroupRef, None] = field(default_factory=dict)
    projects: dict[tuple[str, DomainRef | None], dict[str, None]] = field(default_factory=dict)

    def add(self, entry: LocalEntry, maps: Maps) -> None:
        default = entry.domain if entry.domain_is_default else None
        if entry.user is not None and self.user is None:
            self.user = _user(entry.user, default, maps)
        if entry.group is not None:
            self._group(entry.group, maps)
        if entry.groups:
            domain = _domain(entry.domain, _single([_domain_template(entry.domain)], maps))
            assert domain is not None  # parse_rules: 'groups' needs 'domain'
            for name in _expand(entry.groups, maps):
                self._add(self.group_names, GroupRef(name, domain))
        for group_id in _expand(entry.group_ids, maps):
            self._add(self.group_ids, group_id)
        for project in entry.projects:
            self._project(project, default, maps)

    def _group(self, spec: GroupSpec, maps: Maps) -> None:
        for values in _combinations([spec.id, spec.name, _domain_template(spec.domain)], maps):
            if spec.id is not None:
                self._add(self.group_ids, spec.id.fill(values))
            else:
                name, domain = _fill(spec.name, values), _domain(spec.domain, values)
                assert name is not None and domain is not None  # parse_rules: name + domain
                self._add(self.group_names, GroupRef(name, domain))

    def _project(self, spec: ProjectSpec, default: DomainSpec | None, maps: Maps) -> None:
        domain_spec = spec.domain or default
        for values in _combinations([spec.name, _domain_template(domain_spec)], maps):
            key = (spec.name.fill(values), _domain(domain_spec, values))
            roles = self.projects.get(key)
            if roles is None:
                self._count()
                roles = self.projects[key] = {}
            roles.update(dict.fromkeys(spec.roles))

    def _add(self, bucket: dict[Any, None], item: Any) -> None:
        if item not in bucket:
            self._count()
            bucket[item] = None

    def _count(self) -> None:
        if len(self.group_ids) + len(self.group_names) + len(self.projects) >= MAX_OUTPUTS:
            raise InvalidAssertion(f"assertion: maps to more than {MAX_OUTPUTS} results")

    def identity(self, remote_user: str | None) -> MappedIdentity:
        user = _finish_user(self.user, remote_user)
        return MappedIdentity(
            user_name=user.name,
            user_id=user.id,
            user_type=user.type,
            user_domain=user.domain,
            user_email=user.email,
            group_ids=tuple(self.group_ids),
            group_names=tuple(self.group_names),
            projects=tuple(
                ProjectGrant(name, tuple(roles), domain)
                for (name, domain), roles in self.projects.items()
            ),
        )


def _expand(items: Iterable[Template], maps: Maps) -> Iterable[str]:
    for item in items:
        for values in _combinations([item], maps):
            yield item.fill(values)


def _user(spec: UserSpec, default: DomainSpec | None, maps: Maps) -> _User:
    domain_spec = spec.domain or default
    values = _single([spec.name, spec.id, spec.email, _domain_template(domain_spec)], maps)
    return _User(
        name=_fill(spec.name, values),
        id=_fill(spec.id, values),
        email=_fill(spec.email, values),
        domain=_domain(domain_spec, values),
        type=spec.type,
    )


def _finish_user(user: _User | None, remote_user: str | None) -> _User:
    """Keystone's fallbacks for an ephemeral user: name <-> id, then ``REMOTE_USER``."""
    if user is None:
        user = _User(None, None, None, None, "ephemeral")
    if user.type == "local":
        return user  # parse_rules made sure it has an id, or a name and a domain
    name = user.name or remote_user or None
    if name is None and user.id is None:
        raise NoMatch("the matching rules map no user name or id")
    return _User(name or user.id, user.id or name, user.email, user.domain, user.type)
