"""The mapping engine: Keystone's rule semantics, validation, limits and injection safety."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from ocx.identity.federation.mapping import (
    MAX_OUTPUTS,
    DomainRef,
    GroupRef,
    InvalidAssertion,
    MappedIdentity,
    MappingError,
    NoMatch,
    ProjectGrant,
    evaluate,
    validate_rules,
)

EXAMPLES = json.loads((Path(__file__).parent / "data" / "keystone_examples.json").read_text())
LAB = {"id": "d-lab"}


def rule(local: list[Any], remote: list[Any]) -> dict[str, Any]:
    return {"local": local, "remote": remote}


def mapping(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"rules": list(rules), **extra}


USER_RULE = rule([{"user": {"name": "{0}"}}], [{"type": "UserName"}])


def groups_of(mapped: MappedIdentity) -> list[str]:
    return [g.name for g in mapped.group_names]


# -- Keystone's documented examples (data/keystone_examples.json) --------------------------


@pytest.mark.parametrize(
    ("example", "case"),
    [(ex, case) for ex in EXAMPLES for case in ex["cases"]],
    ids=[f"{ex['name']}-{n}" for ex in EXAMPLES for n in range(len(ex["cases"]))],
)
def test_documented_example(example: dict[str, Any], case: dict[str, Any]) -> None:
    if case.get("no_match"):
        with pytest.raises(NoMatch):
            evaluate(example["rules"], case["input"], remote_user=case.get("remote_user"))
        return
    mapped = evaluate(example["rules"], case["input"], remote_user=case.get("remote_user"))
    assert mapped.as_dict() == case["expected"]


# -- remote conditions --------------------------------------------------------------------


def test_type_alone_needs_the_attribute_with_a_non_empty_value() -> None:
    rules = mapping(USER_RULE)
    assert evaluate(rules, {"UserName": "ada"}).user_name == "ada"
    for assertion in ({}, {"Other": "x"}, {"UserName": ""}, {"UserName": ";;"}):
        with pytest.raises(NoMatch, match="no rule matched"):
            evaluate(rules, assertion)


def test_any_one_of_compares_whole_values_exactly() -> None:
    rules = mapping(
        rule(
            [{"user": {"name": "{0}"}}], [{"type": "u"}, {"type": "role", "any_one_of": ["admin"]}]
        )
    )
    assert evaluate(rules, {"u": "x", "role": "user;admin"}).user_name == "x"
    for role in ("administrator", "Admin", "xadmin", ".*", "admin "):
        with pytest.raises(NoMatch):
            evaluate(rules, {"u": "x", "role": role})


def test_not_any_of_rejects_any_listed_value_and_a_missing_attribute() -> None:
    cond = {"type": "affiliation", "not_any_of": ["student", "alum"]}
    rules = mapping(rule([{"user": {"name": "{0}"}}], [{"type": "u"}, cond]))
    assert evaluate(rules, {"u": "x", "affiliation": "staff"}).user_name == "x"
    for assertion in ({"u": "x", "affiliation": "staff;alum"}, {"u": "x"}):
        with pytest.raises(NoMatch):
            evaluate(rules, assertion)


def test_regex_searches_unanchored_like_keystone() -> None:
    cond = {"type": "mail", "any_one_of": ["@uni\\.example$"], "regex": True}
    rules = mapping(rule([{"group": {"id": "g"}}], [cond]))
    assert evaluate(rules, {"mail": "a@uni.example"}, remote_user="a").group_ids == ("g",)
    with pytest.raises(NoMatch):
        evaluate(rules, {"mail": "a@uni.example.evil"}, remote_user="a")


def test_regex_not_any_of() -> None:
    cond = {"type": "mail", "not_any_of": ["^guest-"], "regex": True}
    rules = mapping(rule([{"group": {"id": "g"}}], [cond]))
    assert evaluate(rules, {"mail": "ada"}, remote_user="a").group_ids == ("g",)
    with pytest.raises(NoMatch):
        evaluate(rules, {"mail": "ada;guest-7"}, remote_user="a")


def test_whitelist_keeps_assertion_order_and_drops_repeats() -> None:
    cond = {"type": "g", "whitelist": ["a", "b", "c"]}
    local = [{"user": {"name": "{0}"}}, {"groups": "{1}", "domain": LAB}]
    rules = mapping(rule(local, [{"type": "UserName"}, cond]))
    mapped = evaluate(rules, {"UserName": "u", "g": "c;x;a;c;b"})
    assert groups_of(mapped) == ["c", "a", "b"]


def test_blacklist_and_regex_whitelist_filter_values() -> None:
    black = {"type": "g", "blacklist": ["secret"]}
    white = {"type": "g", "whitelist": ["^team-"], "regex": True}
    local = [{"user": {"name": "{0}"}}, {"groups": "{1};{2}", "domain": LAB}]
    rules = mapping(rule(local, [{"type": "UserName"}, black, white]))
    mapped = evaluate(rules, {"UserName": "u", "g": "team-a;secret;ops"})
    assert groups_of(mapped) == ["team-a", "ops"]


def test_whitelist_that_keeps_nothing_still_matches_with_no_groups() -> None:
    cond = {"type": "g", "whitelist": ["wanted"]}
    local = [{"user": {"name": "{0}"}}, {"groups": "{1}", "domain": LAB}]
    mapped = evaluate(
        mapping(rule(local, [{"type": "UserName"}, cond])), {"UserName": "u", "g": "x"}
    )
    assert mapped.user_name == "u" and mapped.group_names == ()


def test_a_user_field_from_an_emptied_whitelist_is_an_error() -> None:
    cond = {"type": "cn", "whitelist": ["compute"]}
    rules = mapping(rule([{"user": {"name": "{0}"}}], [cond]))
    with pytest.raises(InvalidAssertion, match=r"rules\[0\]\.local\[0\]\.user\.name: \{0\} has 0"):
        evaluate(rules, {"cn": "intruder"})


# -- {N} substitution ---------------------------------------------------------------------


def test_numbering_skips_any_one_of_and_not_any_of() -> None:
    remote = [
        {"type": "a", "any_one_of": ["yes"]},
        {"type": "b"},
        {"type": "c", "not_any_of": ["no"]},
        {"type": "d", "whitelist": ["d1"]},
    ]
    rules = mapping(rule([{"user": {"name": "{0}", "email": "{1}"}}], remote))
    mapped = evaluate(rules, {"a": "yes", "b": "bee", "c": "sea", "d": "d1"})
    assert (mapped.user_name, mapped.user_email) == ("bee", "d1")


def test_multi_valued_group_name_expands_per_value_with_its_domain() -> None:
    local = [{"group": {"name": "{0}", "domain": {"name": "{1}"}}}]
    rules = mapping(rule(local, [{"type": "g"}, {"type": "dom"}]))
    mapped = evaluate(rules, {"g": "a;b", "dom": "D1;D2"}, remote_user="u")
    assert mapped.group_names == (
        GroupRef("a", DomainRef(name="D1")),
        GroupRef("a", DomainRef(name="D2")),
        GroupRef("b", DomainRef(name="D1")),
        GroupRef("b", DomainRef(name="D2")),
    )


def test_group_by_id_and_group_ids_expand_per_value() -> None:
    local = [{"group": {"id": "grp-{0}"}}, {"group_ids": "static;{0}"}]
    mapped = evaluate(mapping(rule(local, [{"type": "ids"}])), {"ids": "1;2"}, remote_user="u")
    assert mapped.group_ids == ("grp-1", "grp-2", "static", "1", "2")


def test_groups_string_splits_on_semicolons_in_the_rule_only() -> None:
    local = [{"groups": "alpha;beta-{0};gamma", "domain": LAB}]
    mapped = evaluate(mapping(rule(local, [{"type": "x"}])), {"x": ["1", "2"]}, remote_user="u")
    assert groups_of(mapped) == ["alpha", "beta-1", "beta-2", "gamma"]


def test_several_placeholders_in_one_item_combine() -> None:
    local = [{"groups": "{0}-{1}", "domain": LAB}]
    mapped = evaluate(
        mapping(rule(local, [{"type": "a"}, {"type": "b"}])),
        {"a": "x;y", "b": "1;2"},
        remote_user="u",
    )
    assert groups_of(mapped) == ["x-1", "x-2", "y-1", "y-2"]


def test_the_same_placeholder_twice_uses_the_same_value() -> None:
    local = [{"groups": "{0}/{0}", "domain": LAB}]
    mapped = evaluate(mapping(rule(local, [{"type": "a"}])), {"a": "x;y"}, remote_user="u")
    assert groups_of(mapped) == ["x/x", "y/y"]


def test_a_multi_valued_user_field_is_refused_not_guessed() -> None:
    rules = mapping(
        rule([{"user": {"name": "{0}", "email": "{1}"}}], [{"type": "u"}, {"type": "m"}])
    )
    with pytest.raises(InvalidAssertion, match=r"user\.email: \{1\} has 2 values"):
        evaluate(rules, {"u": "ada", "m": "a@x;b@x"})


def test_placeholders_refer_to_their_own_rule() -> None:
    first = rule([{"user": {"name": "{0}"}}], [{"type": "UserName"}])
    second = rule([{"group": {"name": "{0}", "domain": LAB}}], [{"type": "Dept"}])
    mapped = evaluate(mapping(first, second), {"UserName": "ada", "Dept": "maths"})
    assert mapped.user_name == "ada" and groups_of(mapped) == ["maths"]


def test_literal_braces_are_written_doubled() -> None:
    rules = mapping(rule([{"user": {"name": "{{{0}}}"}}], [{"type": "u"}]))
    assert evaluate(rules, {"u": "ada"}).user_name == "{ada}"


# -- local: user, groups, projects, domains -----------------------------------------------


def test_user_fields_type_and_domain() -> None:
    user = {"id": "{0}", "name": "{1}", "email": "{2}", "type": "local", "domain": {"id": "d1"}}
    rules = mapping(rule([{"user": user}], [{"type": "i"}, {"type": "n"}, {"type": "e"}]))
    mapped = evaluate(rules, {"i": "42", "n": "ada", "e": "ada@x"})
    assert mapped == MappedIdentity("ada", "42", "local", DomainRef(id="d1"), "ada@x", (), (), ())


def test_ephemeral_name_and_id_fall_back_on_each_other() -> None:
    by_id = mapping(rule([{"user": {"id": "{0}"}}], [{"type": "sub"}]))
    mapped = evaluate(by_id, {"sub": "abc"})
    assert (mapped.user_name, mapped.user_id, mapped.user_type) == ("abc", "abc", "ephemeral")
    by_name = evaluate(mapping(USER_RULE), {"UserName": "ada"})
    assert (by_name.user_name, by_name.user_id) == ("ada", "ada")


def test_a_local_user_gets_no_fallback() -> None:
    rules = mapping(rule([{"user": {"id": "{0}", "type": "local"}}], [{"type": "sub"}]))
    mapped = evaluate(rules, {"sub": "uuid-1"})
    assert (mapped.user_name, mapped.user_id, mapped.user_domain) == (None, "uuid-1", None)


def test_remote_user_is_the_name_of_last_resort() -> None:
    groups_only = mapping(rule([{"group": {"id": "g"}}], [{"type": "x"}]))
    mapped = evaluate(groups_only, {"x": "1"}, remote_user="ru")
    assert (mapped.user_name, mapped.user_id) == ("ru", "ru")
    assert evaluate(mapping(USER_RULE), {"UserName": "ada"}, remote_user="ru").user_name == "ada"
    for nobody in (None, ""):
        with pytest.raises(NoMatch, match="no user name or id"):
            evaluate(groups_only, {"x": "1"}, remote_user=nobody)


def test_schema_2_entry_domain_is_the_default_for_user_and_projects() -> None:
    local = [
        {
            "user": {"name": "{0}"},
            "projects": [
                {"name": "p1", "roles": [{"name": "member"}]},
                {"name": "p2", "roles": [{"name": "reader"}], "domain": {"id": "other"}},
            ],
            "domain": {"name": "{1}"},
        }
    ]
    rules = mapping(rule(local, [{"type": "u"}, {"type": "org"}]), schema_version="2.0")
    mapped = evaluate(rules, {"u": "ada", "org": "physics"})
    assert mapped.user_domain == DomainRef(name="physics")
    assert mapped.projects == (
        ProjectGrant("p1", ("member",), DomainRef(name="physics")),
        ProjectGrant("p2", ("reader",), DomainRef(id="other")),
    )


def test_projects_expand_per_value_and_merge_roles_across_rules() -> None:
    first = rule(
        [{"projects": [{"name": "lab-{0}", "roles": [{"name": "member"}]}]}], [{"type": "labs"}]
    )
    second = rule(
        [{"projects": [{"name": "lab-a", "roles": [{"name": "reader"}, {"name": "member"}]}]}],
        [{"type": "labs", "any_one_of": ["a"]}],
    )
    mapped = evaluate(mapping(USER_RULE, first, second), {"UserName": "u", "labs": "a;b"})
    assert mapped.projects == (
        ProjectGrant("lab-a", ("member", "reader")),
        ProjectGrant("lab-b", ("member",)),
    )


def test_rules_are_additive_and_the_first_user_wins() -> None:
    r1 = rule(
        [{"user": {"name": "{0}", "email": "first@x"}}, {"group": {"id": "g1"}}], [{"type": "u"}]
    )
    r2 = rule(
        [{"user": {"name": "other"}}, {"group": {"id": "g2"}}, {"group": {"id": "g1"}}],
        [{"type": "u"}],
    )
    r3 = rule([{"user": {"name": "never"}}, {"group": {"id": "g3"}}], [{"type": "absent"}])
    mapped = evaluate(mapping(r1, r2, r3), {"u": "ada"})
    assert (mapped.user_name, mapped.user_email) == ("ada", "first@x")
    assert mapped.group_ids == ("g1", "g2")


def test_same_group_from_several_rules_appears_once() -> None:
    local = [{"groups": "a;{0}", "domain": LAB}, {"group": {"name": "a", "domain": LAB}}]
    mapped = evaluate(mapping(rule(local, [{"type": "g"}])), {"g": "a;b;a"}, remote_user="u")
    assert groups_of(mapped) == ["a", "b"]


def test_result_is_frozen_and_renders_like_keystone() -> None:
    mapped = evaluate(mapping(USER_RULE), {"UserName": "ada"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        mapped.user_name = "eve"  # type: ignore[misc]
    assert mapped.as_dict() == {
        "user": {"name": "ada", "id": "ada", "type": "ephemeral"},
        "group_ids": [],
        "group_names": [],
        "projects": [],
    }


# -- the assertion ------------------------------------------------------------------------


def test_list_values_equal_their_semicolon_joined_string() -> None:
    local = [{"user": {"name": "{0}"}}, {"groups": "{1}", "domain": LAB}]
    rules = mapping(rule(local, [{"type": "u"}, {"type": "g"}]))
    as_list = evaluate(rules, {"u": ["ada"], "g": ["a", "b;c"]})
    as_text = evaluate(rules, {"u": "ada", "g": "a;b;c"})
    assert as_list == as_text and groups_of(as_list) == ["a", "b", "c"]


def test_non_string_claims_are_ignored() -> None:
    assertion: dict[str, Any] = {"UserName": "ada", "exp": 1700000000, "roles": ["a", 1]}
    assert evaluate(mapping(USER_RULE), assertion).user_name == "ada"
    with pytest.raises(NoMatch):
        evaluate(mapping(USER_RULE), {"UserName": 7})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        ({"UserName": "x" * (64 * 1024 + 1)}, "larger than"),
        ({"UserName": ["x" * 40000, "y" * 40000]}, "larger than"),
        ({f"a{i}": "v" * 60000 for i in range(20)}, "assertion: larger than 1048576 bytes"),
        ({f"a{i}": "v" for i in range(1025)}, "more than 1024 attributes"),
        ({"UserName": ";".join(str(i) for i in range(1025))}, "more than 1024 values"),
    ],
)
def test_oversized_assertions_are_refused(assertion: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidAssertion, match=message):
        evaluate(mapping(USER_RULE), assertion)


def test_expansion_is_bounded() -> None:
    local = [{"groups": "{0}{1}", "domain": LAB}]
    values = ";".join(str(i) for i in range(100))
    with pytest.raises(InvalidAssertion, match=f"more than {MAX_OUTPUTS}"):
        evaluate(
            mapping(rule(local, [{"type": "a"}, {"type": "b"}])),
            {"a": values, "b": values},
            remote_user="u",
        )


def test_total_results_are_bounded() -> None:
    local = [{"groups": "a{0};b{0};c{0};d{0};e{0}", "domain": LAB}]
    values = ";".join(str(i) for i in range(1000))
    with pytest.raises(InvalidAssertion, match=f"maps to more than {MAX_OUTPUTS} results"):
        evaluate(mapping(rule(local, [{"type": "a"}])), {"a": values}, remote_user="u")


# -- injection: claims are data, never template or pattern ---------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "{0}",
        "{1}",
        "{0.__class__}",
        "{{0}}",
        "['admin', 'root']",
        'JSON:{"name": "admin"}',
        ".*",
        "a{",
    ],
)
def test_claim_values_are_inserted_verbatim(value: str) -> None:
    local = [{"user": {"name": "{0}", "email": "{1}"}}, {"groups": "{0}", "domain": LAB}]
    rules = mapping(rule(local, [{"type": "u"}, {"type": "m"}]))
    mapped = evaluate(rules, {"u": value, "m": "m@x"})
    assert mapped.user_name == value and mapped.user_email == "m@x"
    assert mapped.group_names == (GroupRef(value, DomainRef(id="d-lab")),)


def test_claim_values_are_never_used_as_patterns() -> None:
    gate = {"type": "role", "any_one_of": ["admin"]}
    white = {"type": "g", "whitelist": ["^team-"], "regex": True}
    local = [{"groups": "{0}", "domain": LAB}]
    rules = mapping(rule(local, [white, gate]))
    with pytest.raises(NoMatch):
        evaluate(rules, {"role": ".*", "g": "team-a"}, remote_user="u")
    mapped = evaluate(rules, {"role": "admin", "g": ".*;team-.*;x"}, remote_user="u")
    assert groups_of(mapped) == ["team-.*"]


def test_a_claim_cannot_name_a_role() -> None:
    local = [{"projects": [{"name": "{0}", "roles": [{"name": "{0}"}]}]}]
    with pytest.raises(MappingError, match=r"roles\[0\]\.name: role names must be literal"):
        validate_rules(mapping(rule(local, [{"type": "x"}])))


# -- validation ---------------------------------------------------------------------------

R = {"type": "u"}
U = {"user": {"name": "{0}"}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], r"^mapping: must be an object, not a list"),
        ({}, r"^mapping: missing 'rules'"),
        ({"rules": [], "id": "m1"}, r"^mapping: unknown key\(s\) 'id'"),
        ({"rules": []}, r"^rules: must not be empty"),
        ({"rules": [rule([U], [R])] * 257}, r"^rules: 257 items, more than the 256 allowed"),
        ({"rules": ["x"]}, r"^rules\[0\]: must be an object, not a string"),
        ({"rules": [{"local": [U]}]}, r"^rules\[0\]: missing 'remote'"),
        ({"rules": [{**rule([U], [R]), "extra": 1}]}, r"^rules\[0\]: unknown key\(s\) 'extra'"),
        (mapping(rule([U], [])), r"rules\[0\]\.remote: must not be empty"),
        (mapping(rule([], [R])), r"rules\[0\]\.local: must not be empty"),
        (mapping(rule([U], [{"tpye": "u"}])), r"remote\[0\]: unknown key\(s\) 'tpye'"),
        (mapping(rule([U], [{"type": ""}])), r"remote\[0\]\.type: must not be empty"),
        (mapping(rule([U], [{"type": 5}])), r"remote\[0\]\.type: must be a string, not int"),
        (
            mapping(rule([U], [R, {"type": "a", "any_one_of": ["x"], "not_any_of": ["y"]}])),
            "only one of",
        ),
        (
            mapping(rule([U], [R, {"type": "a", "whitelist": ["x"], "blacklist": ["y"]}])),
            "only one of",
        ),
        (
            mapping(rule([U], [R, {"type": "a", "any_one_of": ["x"], "regex": "yes"}])),
            "regex: must be true",
        ),
        (
            mapping(rule([U], [{"type": "u", "regex": False}])),
            r"remote\[0\]\.regex: needs any_one_of",
        ),
        (
            mapping(rule([U], [R, {"type": "a", "any_one_of": ["("], "regex": True}])),
            r"any_one_of\[0\]: invalid regular",
        ),
        (mapping(rule([U], [R, {"type": "a", "whitelist": []}])), r"whitelist: must not be empty"),
        (mapping(rule([U], [R, {"type": "a", "blacklist": "x"}])), r"blacklist: must be a list"),
        (
            mapping(rule([U], [R, {"type": "a", "any_one_of": [1]}])),
            r"any_one_of\[0\]: must be a string",
        ),
        (mapping(rule([U], [{"type": "u" * (64 * 1024 + 1)}])), "longer than 65536 bytes"),
    ],
)
def test_malformed_documents_and_remote(document: Any, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        validate_rules(document)


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ({"usr": {"name": "{0}"}}, r"local\[0\]: unknown key\(s\) 'usr'"),
        ({"domain": LAB}, r"local\[0\]: maps nothing"),
        ({"groups": "a"}, "'groups' needs a 'domain'"),
        (
            {"user": {"name": "{0}"}, "domain": LAB},
            r"domain: in schema 1\.0 it only applies to 'groups'",
        ),
        ({"user": {"name": "{0}", "type": "admin"}}, r"user\.type: must be 'ephemeral' or 'local'"),
        ({"user": {"name": "{0}", "password": "x"}}, r"user: unknown key\(s\) 'password'"),
        ({"user": {"type": "local", "email": "{0}"}}, "a local user needs 'id' or 'name'"),
        (
            {"user": {"type": "local", "name": "{0}"}},
            "a local user found by 'name' needs a 'domain'",
        ),
        ({"group": {"id": "g", "name": "n"}}, r"group: unknown key\(s\) 'name'"),
        ({"group": {"name": "n"}}, r"group: missing 'domain'"),
        ({"group": {}}, r"group: missing 'name', 'domain'"),
        (
            {"group": {"name": "n", "domain": {"id": "a", "name": "b"}}},
            "exactly one of 'id' or 'name'",
        ),
        ({"group": {"name": "n", "domain": {}}}, "exactly one of 'id' or 'name'"),
        ({"group": {"name": "n", "domain": {"uuid": "a"}}}, r"domain: unknown key\(s\) 'uuid'"),
        ({"groups": "['a', 'b']", "domain": LAB}, "separate items with ';', not a list literal"),
        ({"groups": "a;;b", "domain": LAB}, r"empty item \(a stray ';'\)"),
        ({"group_ids": "a;"}, r"group_ids: empty item"),
        ({"group_ids": ["a"]}, r"group_ids: must be a string, not a list"),
        ({"projects": [{"name": "p"}]}, r"projects\[0\]: missing 'roles'"),
        ({"projects": [{"name": "p", "roles": []}]}, r"roles: must not be empty"),
        (
            {"projects": [{"name": "p", "roles": [{"name": "r", "id": "x"}]}]},
            r"roles\[0\]: unknown key",
        ),
        ({"projects": [{"name": "p", "roles": ["member"]}]}, r"roles\[0\]: must be an object"),
        (
            {"projects": [{"name": "p", "roles": [{"name": "r"}], "domain": LAB}]},
            "needs schema_version 2.0",
        ),
        ({"projects_json": "{0}"}, "needs schema 3.0, which OCX refuses"),
        ({"user": {"name": "{1}"}}, r"user\.name: \{1\} but the rule's remote offers 1 direct map"),
        ({"user": {"name": "{0"}}, r"user\.name: stray '\{'"),
        ({"user": {"name": "x}"}}, r"user\.name: stray '\}'"),
        ({"user": {"name": "{}"}}, r"stray '\{'"),
        ({"user": {"name": "{0.__class__}"}}, r"stray '\{'"),
        ({"user": {"name": "{0!r}"}}, r"stray '\{'"),
    ],
)
def test_malformed_local_entries(local: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        validate_rules(mapping(rule([local], [{"type": "u"}])))


def test_a_placeholder_may_not_point_at_an_any_one_of_condition() -> None:
    remote = [{"type": "u"}, {"type": "role", "any_one_of": ["admin"]}]
    with pytest.raises(MappingError, match=r"\{1\} but the rule's remote offers 1 direct map"):
        validate_rules(mapping(rule([{"user": {"name": "{1}"}}], remote)))


def test_errors_name_the_rule_and_entry() -> None:
    bad = rule([U, {"group": {"name": "n", "domain": {"nme": "x"}}}], [R])
    with pytest.raises(MappingError) as caught:
        validate_rules(mapping(rule([U], [R]), bad))
    assert str(caught.value) == "rules[1].local[1].group.domain: unknown key(s) 'nme'"


def test_invalid_rules_are_refused_before_any_matching() -> None:
    never_matches = rule([U], [{"type": "absent"}])
    invalid = rule([{"user": {"name": "{0}", "type": "robot"}}], [R])
    with pytest.raises(MappingError, match="robot") as caught:
        evaluate(mapping(never_matches, invalid), {"u": "x"})
    assert not isinstance(caught.value, NoMatch)


# -- schema versions ----------------------------------------------------------------------


def test_schema_version_comes_from_the_document_or_the_argument() -> None:
    project = {"name": "p", "roles": [{"name": "r"}], "domain": LAB}
    local = [{"user": {"name": "{0}"}, "projects": [project]}]
    with pytest.raises(MappingError, match=r"needs schema_version 2\.0"):
        validate_rules(mapping(rule(local, [R])))
    validate_rules(mapping(rule(local, [R]), schema_version="2.0"))
    validate_rules(mapping(rule(local, [R])), schema_version="2.0")
    validate_rules(mapping(rule(local, [R]), schema_version="2.0"), "2.0")


def test_projects_without_domain_are_schema_1() -> None:
    local = [{"user": {"name": "{0}"}, "projects": [{"name": "p", "roles": [{"name": "r"}]}]}]
    assert evaluate(mapping(rule(local, [R])), {"u": "x"}, "1.0").projects == (
        ProjectGrant("p", ("r",)),
    )


def test_a_schema_1_entry_domain_does_not_reach_user_or_projects() -> None:
    local = [{"user": {"name": "{0}"}, "groups": "g", "domain": LAB}]
    mapped = evaluate(mapping(rule(local, [R])), {"u": "x"})
    assert mapped.user_domain is None and mapped.group_names == (
        GroupRef("g", DomainRef(id="d-lab")),
    )
    assert evaluate(
        mapping(rule(local, [R]), schema_version="2.0"), {"u": "x"}
    ).user_domain == DomainRef(id="d-lab")


def test_a_schema_2_local_user_may_take_the_entry_domain() -> None:
    local = [{"user": {"name": "svc", "type": "local"}, "domain": {"name": "ops"}}]
    mapped = evaluate(mapping(rule(local, [R]), schema_version="2.0"), {"u": "x"})
    assert (mapped.user_name, mapped.user_domain) == ("svc", DomainRef(name="ops"))


@pytest.mark.parametrize(
    ("declared", "requested", "message"),
    [
        ("1.0", "2.0", "the rules declare '1.0' but '2.0' was requested"),
        (None, "4.0", "'4.0' is unknown"),
        ("3.0", None, r"'3\.0' \(projects_json\) is not supported"),
        (2.0, None, "must be a string"),
    ],
)
def test_bad_schema_versions(declared: Any, requested: str | None, message: str) -> None:
    doc = mapping(USER_RULE) if declared is None else mapping(USER_RULE, schema_version=declared)
    with pytest.raises(MappingError, match=message):
        validate_rules(doc, requested)


def test_error_classes_are_distinguishable() -> None:
    assert issubclass(NoMatch, MappingError) and issubclass(InvalidAssertion, MappingError)
    assert issubclass(MappingError, ValueError) and not issubclass(NoMatch, InvalidAssertion)
