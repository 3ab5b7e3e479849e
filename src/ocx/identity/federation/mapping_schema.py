"""Parse and check federation mapping rules (Keystone's JSON) into typed, immutable specs.

Nothing here looks at an assertion: :func:`parse_rules` turns the rule document a landlord
wrote into :class:`RuleSet`, or raises :class:`MappingError` naming the path of the first
problem (``rules[2].local[0].group.name: ...``). :mod:`ocx.identity.federation.mapping`
evaluates a :class:`RuleSet` against an assertion.

Schema versions (Keystone's ``schema_version`` of a mapping):

- ``1.0``: ``user``, ``group``, ``groups`` (+ ``domain``), ``group_ids``, ``projects``
  (``name`` and ``roles``); the entry-level ``domain`` is the domain of ``groups`` only.
- ``2.0``: adds ``projects[].domain``; the entry-level ``domain`` is also the default
  domain of the ``user`` and the ``projects`` of the same entry.
- ``3.0`` (``projects_json``) is refused: it lets the IdP name projects *and roles*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSIONS = ("1.0", "2.0")
DEFAULT_SCHEMA_VERSION = "1.0"

MAX_RULES = 256
MAX_ENTRIES = 64  # remote conditions or local entries in one rule
MAX_LIST = 1024  # any_one_of / whitelist / ... values, projects, roles
MAX_STRING = 64 * 1024

ConditionKind = Literal["present", "any_one_of", "not_any_of", "whitelist", "blacklist"]
UserType = Literal["ephemeral", "local"]
_FILTERS: tuple[ConditionKind, ...] = ("any_one_of", "not_any_of", "whitelist", "blacklist")
_ENTRY_KEYS = frozenset({"user", "group", "groups", "group_ids", "projects", "domain"})
_TOKEN = re.compile(r"\{\{|\}\}|\{(\d{1,4})\}|[{}]")


class MappingError(ValueError):
    """The mapping rules are invalid; the message starts with where (``rules[0].remote[1]``)."""


@dataclass(frozen=True)
class Template:
    """A rule string split into literal text and ``{N}`` direct-map references.

    Values are only ever inserted into the parsed parts, never parsed themselves, so an
    assertion value holding ``{0}``, ``;`` or ``['admin']`` stays that literal text.
    """

    parts: tuple[str | int, ...]
    where: str

    @property
    def indexes(self) -> frozenset[int]:
        return frozenset(p for p in self.parts if isinstance(p, int))

    def fill(self, values: Mapping[int, str]) -> str:
        return "".join(values[p] if isinstance(p, int) else p for p in self.parts)


@dataclass(frozen=True)
class DomainSpec:
    field: Literal["id", "name"]
    value: Template


@dataclass(frozen=True)
class UserSpec:
    name: Template | None
    id: Template | None
    email: Template | None
    domain: DomainSpec | None
    type: UserType


@dataclass(frozen=True)
class GroupSpec:
    """``group``: either ``id`` alone, or ``name`` with ``domain``."""

    id: Template | None
    name: Template | None
    domain: DomainSpec | None


@dataclass(frozen=True)
class ProjectSpec:
    name: Template
    roles: tuple[str, ...]  # literal: only the landlord's mapping names roles
    domain: DomainSpec | None


@dataclass(frozen=True)
class LocalEntry:
    user: UserSpec | None
    group: GroupSpec | None
    groups: tuple[Template, ...]  # one template per ';'-separated item
    group_ids: tuple[Template, ...]
    projects: tuple[ProjectSpec, ...]
    domain: DomainSpec | None
    domain_is_default: bool  # schema 2.0: entry domain also applies to user and projects


@dataclass(frozen=True)
class Condition:
    type: str
    kind: ConditionKind
    values: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] | None  # set when "regex": true

    @property
    def is_direct_map(self) -> bool:
        """Keystone numbers only these for ``{N}``; any_one_of/not_any_of only filter rules."""
        return self.kind in ("present", "whitelist", "blacklist")


@dataclass(frozen=True)
class Rule:
    remote: tuple[Condition, ...]
    local: tuple[LocalEntry, ...]


@dataclass(frozen=True)
class RuleSet:
    schema_version: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class _Ctx:
    version: str
    direct_maps: int  # how many {N} the rule being parsed offers


def parse_rules(document: Any, schema_version: str | None = None) -> RuleSet:
    """Check a mapping document ``{"rules": [...], "schema_version"?: "X"}``."""
    doc = _dict(document, "mapping")
    _keys(doc, {"rules", "schema_version"}, "mapping", required=("rules",))
    version = _resolve_version(doc.get("schema_version"), schema_version)
    rules = _list(doc["rules"], "rules", limit=MAX_RULES)
    return RuleSet(version, tuple(_rule(r, f"rules[{i}]", version) for i, r in enumerate(rules)))


def _resolve_version(declared: Any, requested: str | None) -> str:
    if declared is not None and not isinstance(declared, str):
        raise MappingError("schema_version: must be a string such as '1.0'")
    if declared and requested and declared != requested:
        raise MappingError(
            f"schema_version: the rules declare {declared!r} but {requested!r} was requested"
        )
    version = requested or declared or DEFAULT_SCHEMA_VERSION
    if version == "3.0":
        raise MappingError(
            "schema_version: '3.0' (projects_json) is not supported: it lets the identity "
            "provider name projects and roles, and only the landlord's mapping may name roles"
        )
    if version not in SCHEMA_VERSIONS:
        raise MappingError(f"schema_version: {version!r} is unknown; use one of {SCHEMA_VERSIONS}")
    return version


def _rule(raw: Any, where: str, version: str) -> Rule:
    rule = _dict(raw, where)
    _keys(rule, {"local", "remote"}, where, required=("local", "remote"))
    remote_raw = _list(rule["remote"], f"{where}.remote", limit=MAX_ENTRIES)
    remote = tuple(_condition(c, f"{where}.remote[{i}]") for i, c in enumerate(remote_raw))
    ctx = _Ctx(version, sum(c.is_direct_map for c in remote))
    local_raw = _list(rule["local"], f"{where}.local", limit=MAX_ENTRIES)
    local = tuple(_entry(e, f"{where}.local[{i}]", ctx) for i, e in enumerate(local_raw))
    return Rule(remote, local)


# -- remote -------------------------------------------------------------------------------


def _condition(raw: Any, where: str) -> Condition:
    cond = _dict(raw, where)
    _keys(cond, {"type", "regex", *_FILTERS}, where, required=("type",))
    attribute = _str(cond["type"], f"{where}.type")
    kinds = [k for k in _FILTERS if k in cond]
    if len(kinds) > 1:
        raise MappingError(f"{where}: use only one of {' / '.join(kinds)} per condition")
    regex = cond.get("regex", False)
    if not isinstance(regex, bool):
        raise MappingError(f"{where}.regex: must be true or false")
    if not kinds:
        if "regex" in cond:
            raise MappingError(
                f"{where}.regex: needs any_one_of, not_any_of, whitelist or blacklist"
            )
        return Condition(attribute, "present", frozenset(), None)
    kind = kinds[0]
    values = [
        _str(v, f"{where}.{kind}[{i}]")
        for i, v in enumerate(_list(cond[kind], f"{where}.{kind}", limit=MAX_LIST))
    ]
    patterns = (
        tuple(_regex(v, f"{where}.{kind}[{i}]") for i, v in enumerate(values)) if regex else None
    )
    return Condition(attribute, kind, frozenset(values), patterns)


def _regex(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise MappingError(f"{where}: invalid regular expression {pattern!r}: {exc}") from None


# -- local --------------------------------------------------------------------------------


def _entry(raw: Any, where: str, ctx: _Ctx) -> LocalEntry:
    entry = _dict(raw, where)
    if "projects_json" in entry:
        raise MappingError(f"{where}.projects_json: needs schema 3.0, which OCX refuses")
    _keys(entry, _ENTRY_KEYS, where)
    if not entry.keys() - {"domain"}:
        raise MappingError(
            f"{where}: maps nothing; give user, group, groups, group_ids or projects"
        )
    domain = _domain(entry["domain"], f"{where}.domain", ctx) if "domain" in entry else None
    _check_entry_domain(entry, where, ctx)
    return LocalEntry(
        user=_user(entry["user"], f"{where}.user", ctx, domain) if "user" in entry else None,
        group=_group(entry["group"], f"{where}.group", ctx) if "group" in entry else None,
        groups=_items(entry, "groups", where, ctx),
        group_ids=_items(entry, "group_ids", where, ctx),
        projects=_projects(entry, where, ctx),
        domain=domain,
        domain_is_default=ctx.version != "1.0",
    )


def _check_entry_domain(entry: dict[str, Any], where: str, ctx: _Ctx) -> None:
    if "groups" in entry and "domain" not in entry:
        raise MappingError(f"{where}: 'groups' needs a 'domain' in the same entry")
    if "domain" in entry and "groups" not in entry and ctx.version == "1.0":
        raise MappingError(
            f"{where}.domain: in schema 1.0 it only applies to 'groups'; declare "
            "schema_version 2.0 to make it the default domain of user and projects"
        )


def _user(raw: Any, where: str, ctx: _Ctx, entry_domain: DomainSpec | None) -> UserSpec:
    user = _dict(raw, where)
    _keys(user, {"id", "name", "email", "domain", "type"}, where)
    kind = user.get("type", "ephemeral")
    if kind not in ("ephemeral", "local"):
        raise MappingError(f"{where}.type: must be 'ephemeral' or 'local', not {kind!r}")
    spec = UserSpec(
        name=_opt_template(user, "name", where, ctx),
        id=_opt_template(user, "id", where, ctx),
        email=_opt_template(user, "email", where, ctx),
        domain=_domain(user["domain"], f"{where}.domain", ctx) if "domain" in user else None,
        type=kind,
    )
    if kind == "local":
        _check_local_user(spec, where, entry_domain if ctx.version != "1.0" else None)
    return spec


def _check_local_user(spec: UserSpec, where: str, entry_domain: DomainSpec | None) -> None:
    if spec.id is None and spec.name is None:
        raise MappingError(f"{where}: a local user needs 'id' or 'name'")
    if spec.id is None and spec.domain is None and entry_domain is None:
        raise MappingError(f"{where}: a local user found by 'name' needs a 'domain'")


def _group(raw: Any, where: str, ctx: _Ctx) -> GroupSpec:
    group = _dict(raw, where)
    if "id" in group:
        _keys(group, {"id"}, where)
        return GroupSpec(_template(group["id"], f"{where}.id", ctx), None, None)
    _keys(group, {"name", "domain"}, where, required=("name", "domain"))
    name = _template(group["name"], f"{where}.name", ctx)
    return GroupSpec(None, name, _domain(group["domain"], f"{where}.domain", ctx))


def _items(entry: dict[str, Any], key: str, where: str, ctx: _Ctx) -> tuple[Template, ...]:
    """``groups`` / ``group_ids``: a string whose literal ';' separate items."""
    if key not in entry:
        return ()
    template = _template(entry[key], f"{where}.{key}", ctx)
    raw = entry[key]
    if raw.startswith("[") and raw.endswith("]"):
        raise MappingError(f"{where}.{key}: separate items with ';', not a list literal")
    items = _split_items(template)
    if any(not item.parts for item in items):
        raise MappingError(f"{where}.{key}: empty item (a stray ';')")
    return items


def _split_items(template: Template) -> tuple[Template, ...]:
    items: list[Template] = []
    current: list[str | int] = []
    for part in template.parts:
        pieces: list[str | int] = [part] if isinstance(part, int) else list(part.split(";"))
        for n, piece in enumerate(pieces):
            if n:
                items.append(Template(tuple(current), template.where))
                current = []
            if piece != "":
                current.append(piece)
    items.append(Template(tuple(current), template.where))
    return tuple(items)


def _projects(entry: dict[str, Any], where: str, ctx: _Ctx) -> tuple[ProjectSpec, ...]:
    if "projects" not in entry:
        return ()
    raw = _list(entry["projects"], f"{where}.projects", limit=MAX_LIST)
    return tuple(_project(p, f"{where}.projects[{i}]", ctx) for i, p in enumerate(raw))


def _project(raw: Any, where: str, ctx: _Ctx) -> ProjectSpec:
    project = _dict(raw, where)
    if "domain" in project and ctx.version == "1.0":
        raise MappingError(f"{where}.domain: a project's domain needs schema_version 2.0")
    _keys(project, {"name", "roles", "domain"}, where, required=("name", "roles"))
    roles = _list(project["roles"], f"{where}.roles", limit=MAX_LIST)
    return ProjectSpec(
        name=_template(project["name"], f"{where}.name", ctx),
        roles=tuple(dict.fromkeys(_role(r, f"{where}.roles[{i}]") for i, r in enumerate(roles))),
        domain=_domain(project["domain"], f"{where}.domain", ctx) if "domain" in project else None,
    )


def _role(raw: Any, where: str) -> str:
    role = _dict(raw, where)
    _keys(role, {"name"}, where, required=("name",))
    name = _str(role["name"], f"{where}.name")
    if "{" in name or "}" in name:
        raise MappingError(
            f"{where}.name: role names must be literal; only the landlord's mapping names roles"
        )
    return name


def _domain(raw: Any, where: str, ctx: _Ctx) -> DomainSpec:
    domain = _dict(raw, where)
    _keys(domain, {"id", "name"}, where)
    if len(domain) != 1:
        raise MappingError(f"{where}: give exactly one of 'id' or 'name'")
    field: Literal["id", "name"] = "id" if "id" in domain else "name"
    return DomainSpec(field, _template(domain[field], f"{where}.{field}", ctx))


# -- templates and shapes -----------------------------------------------------------------


def _opt_template(obj: dict[str, Any], key: str, where: str, ctx: _Ctx) -> Template | None:
    return _template(obj[key], f"{where}.{key}", ctx) if key in obj else None


def _template(raw: Any, where: str, ctx: _Ctx) -> Template:
    text = _str(raw, where)
    parts: list[str | int] = []
    pos = 0
    for token in _TOKEN.finditer(text):
        parts.append(text[pos : token.start()])
        parts.append(_token(token, where, ctx))
        pos = token.end()
    parts.append(text[pos:])
    return Template(_merge_literals(parts), where)


def _token(token: re.Match[str], where: str, ctx: _Ctx) -> str | int:
    if token.group(0) in ("{{", "}}"):
        return token.group(0)[0]
    if token.group(1) is None:
        raise MappingError(
            f"{where}: stray {token.group(0)!r}; write {{0}}, {{1}}, ... for direct maps "
            "and {{ or }} for a literal brace"
        )
    index = int(token.group(1))
    if index >= ctx.direct_maps:
        raise MappingError(
            f"{where}: {{{index}}} but the rule's remote offers {ctx.direct_maps} direct "
            "map(s); only conditions without any_one_of/not_any_of are numbered"
        )
    return index


def _merge_literals(parts: list[str | int]) -> tuple[str | int, ...]:
    merged: list[str | int] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


def _dict(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: must be an object, not {_kind(raw)}")
    return raw


def _list(raw: Any, where: str, *, limit: int) -> list[Any]:
    if not isinstance(raw, list):
        raise MappingError(f"{where}: must be a list, not {_kind(raw)}")
    if not raw:
        raise MappingError(f"{where}: must not be empty")
    if len(raw) > limit:
        raise MappingError(f"{where}: {len(raw)} items, more than the {limit} allowed")
    return raw


def _str(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise MappingError(f"{where}: must be a string, not {_kind(raw)}")
    if not raw:
        raise MappingError(f"{where}: must not be empty")
    if len(raw.encode()) > MAX_STRING:
        raise MappingError(f"{where}: longer than {MAX_STRING} bytes")
    return raw


def _keys(
    obj: dict[str, Any],
    allowed: set[str] | frozenset[str],
    where: str,
    required: tuple[str, ...] = (),
) -> None:
    unknown = sorted(str(k) for k in obj.keys() - allowed)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise MappingError(f"{where}: missing {', '.join(map(repr, missing))}")


def _kind(raw: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if raw is None else names.get(type(raw), type(raw).__name__)
