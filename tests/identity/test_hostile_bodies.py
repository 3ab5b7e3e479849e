"""Bodies a stranger may send to identity: lone surrogates, deep nesting, huge bodies, hang-ups.

Each of these was a 500 (issue #17); now each is Keystone's own 4xx and the service answers on.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ocx.runner import Exchange
from tests.identity.conftest import Admin

SURROGATE = "\\ud800"  # JSON text for a lone high surrogate: valid JSON, invalid Unicode


def post(url: str, text: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return httpx.post(url, content=text.encode(), headers=headers)


def password_body(user_id: str, password: str, domain_name: str | None = None) -> str:
    user = f'"id": "{user_id}"'
    if domain_name is not None:
        user = f'"name": "someone", "domain": {{"name": "{domain_name}"}}'
    return (
        '{"auth": {"identity": {"methods": ["password"], "password": {"user": {'
        + user
        + f', "password": "{password}"'
        + "}}}}}"
    )


def appcred_body(cred_id: str) -> str:
    return (
        '{"auth": {"identity": {"methods": ["application_credential"], '
        f'"application_credential": {{"id": "{cred_id}", "secret": "x"}}}}}}}}'
    )


def keystone_error(resp: httpx.Response) -> tuple[int, str]:
    doc = resp.json()["error"]
    assert doc["code"] == resp.status_code
    return resp.status_code, doc["message"]


@pytest.mark.parametrize(
    "body",
    [
        password_body(SURROGATE, "pw"),
        password_body("admin", SURROGATE),
        password_body("", "pw", domain_name=SURROGATE),
        appcred_body(SURROGATE),
    ],
    ids=["user-id", "password", "domain-name", "credential-id"],
)
def test_lone_surrogate_in_auth_is_400(admin: Admin, body: str) -> None:
    resp = post(admin.url + "/auth/tokens", body)
    assert keystone_error(resp) == (
        400,
        "The JSON body holds an invalid Unicode string (lone surrogate).",
    )
    assert "X-Subject-Token" not in resp.headers


@pytest.mark.parametrize("path", ["/auth/tokens", "/auth/OS-FEDERATION/saml2"])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_400(admin: Admin, path: str, opener: str) -> None:
    resp = post(admin.url + path, opener * 100_000)
    assert keystone_error(resp) == (400, "The JSON body nests deeper than 32 levels.")


def test_deep_nesting_inside_auth_is_400(admin: Admin) -> None:
    nested = "[" * 50 + "]" * 50
    body = f'{{"auth": {{"identity": {{"methods": {nested}}}}}}}'
    resp = post(admin.url + "/auth/tokens", body)
    assert keystone_error(resp) == (400, "The JSON body nests deeper than 32 levels.")


def test_ordinary_nesting_and_strings_pass(exchange: Exchange, admin: Admin) -> None:
    """Brackets and escaped quotes inside strings do not count as nesting."""
    harvard = exchange.landlords["harvard"]
    description = '[[[[{{{{\\"' * 20
    body = f'{{"project": {{"name": "brackets", "description": "{description}"}}}}'
    headers = {"X-Auth-Token": admin.session.get_token(), "Content-Type": "application/json"}
    resp = httpx.post(admin.url + "/projects", content=body.encode(), headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["project"]["description"] == '[[[[{{{{"' * 20
    assert harvard.auth_url == admin.url


def test_oversized_body_is_413(admin: Admin) -> None:
    big = '{"auth": {"identity": {"methods": ["password"]}}, "pad": "' + "x" * (1 << 20) + '"}'
    resp = post(admin.url + "/auth/tokens", big)
    assert keystone_error(resp) == (413, "The request body is larger than 1048576 bytes.")


def test_oversized_chunked_body_is_413(admin: Admin) -> None:
    def chunks() -> Any:
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    resp = httpx.post(admin.url + "/auth/tokens", content=chunks(), headers=headers)
    assert keystone_error(resp) == (413, "The request body is larger than 1048576 bytes.")


def test_client_gone_mid_body_is_not_a_server_error(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    where = urlsplit(admin.url)
    head = (
        f"POST {where.path}/auth/tokens HTTP/1.1\r\nHost: {where.netloc}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port)) as sock:
        sock.sendall(head.encode() + b'{"auth": {"identity"')
    # The service noticed the hang-up (the condition), then answers the next caller.
    assert admin.call("GET", "/projects", ok=200)["projects"]
    _wait_for_log(caplog, "client went away mid-body on POST")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    statuses = [getattr(r, "fields", {}).get("status") for r in caplog.records]
    assert 499 in statuses and 500 not in statuses


def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> None:
    deadline = time.monotonic() + 10
    while not any(text in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, f"never logged: {text}"
        time.sleep(0.01)
