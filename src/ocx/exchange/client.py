"""Clients of the exchange: the customer's, and the landlord's agent.

``MarketClient`` is what the ``ocx market`` CLI and tests use as a customer (a keystoneauth
token from the exchange's identity). ``LandlordAgent`` is what a landlord's operator runs:
it has the landlord's own identity sign each statement (enrolment, offerings, offers, usage
batches, feed requests), sends it to the exchange, and checks the exchange's signature on
every grant it pulls from the feed before acting on it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from ocx.common import jws, outbound
from ocx.exchange import signing

TIMEOUT = 30.0


class MarketError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:500]
        raise MarketError(response.status_code, message)
    if response.headers.get("content-type", "").startswith("text/csv"):
        return response.text
    return response.json()


def password_token(
    auth_url: str,
    user: str,
    password: str,
    project: str = "admin",
    client: httpx.Client | None = None,
) -> str:
    """A project-scoped token from a Keystone v3 (OCX) identity, by password."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    http = client or outbound.client(timeout=TIMEOUT)
    response = http.post(auth_url.rstrip("/") + "/auth/tokens", json=body)
    if response.status_code != 201:
        raise MarketError(response.status_code, response.text[:300])
    return str(response.headers["x-subject-token"])


class MarketClient:
    """The exchange API as a customer (or the operator) with a token of the exchange's identity."""

    def __init__(self, url: str, token: str | None = None, client: httpx.Client | None = None):
        self.url = url.rstrip("/")
        self.http = client or outbound.client(timeout=TIMEOUT)
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token} if self.token else {}

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return _answer(self.http.get(self.url + path, params=clean, headers=self._headers()))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return _answer(self.http.post(self.url + path, json=body, headers=self._headers()))

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return _answer(self.http.put(self.url + path, json=body, headers=self._headers()))

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return _answer(self.http.patch(self.url + path, json=body, headers=self._headers()))

    def delete(self, path: str) -> Any:
        return _answer(self.http.delete(self.url + path, headers=self._headers()))


class LandlordAgent:
    """A landlord at the exchange: its identity signs, the exchange receives."""

    def __init__(
        self,
        landlord: str,
        identity_url: str,
        token: str,
        exchange_url: str,
        exchange_name: str,
        client: httpx.Client | None = None,
    ):
        self.landlord = landlord
        self.identity_url = identity_url.rstrip("/")
        self.token = token
        self.exchange = MarketClient(exchange_url, client=client)
        self.exchange_name = exchange_name
        self.http = self.exchange.http
        self._market_keys: dict[str, Any] = {}

    def sign(self, typ: str, claims: dict[str, Any]) -> str:
        response = self.http.post(
            self.identity_url + "/v3/OS-OCX/market/sign",
            json={"typ": typ, "claims": {**claims, "aud": self.exchange_name}},
            headers={"X-Auth-Token": self.token},
        )
        return str(_answer(response)["statement"])

    def enrolment(self, owner: str, **description: Any) -> str:
        return self.sign(signing.TYP_ENROL, {"owner": owner, "description": description})

    def publish(self, version: int, **offering: Any) -> dict[str, Any]:
        statement = self.sign(signing.TYP_OFFERING, {"version": version, "offering": offering})
        return dict(self.exchange.post("/v1/offerings", {"statement": statement})["offering"])

    def offer(self, **offer: Any) -> dict[str, Any]:
        statement = self.sign(signing.TYP_OFFER, {"offer": offer})
        return dict(self.exchange.post("/v1/offers", {"statement": statement})["offer"])

    def send_usage(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        statement = self.sign(signing.TYP_USAGE, {"records": records})
        return dict(self.exchange.post("/v1/usage", {"statement": statement}))

    def _request_header(self) -> dict[str, str]:
        claims = {"exp": int(time.time()) + 120, "purpose": "feed"}
        return {"Authorization": "OCX-Landlord " + self.sign(signing.TYP_REQUEST, claims)}

    def feed(self, since: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The grants after ``since``, each verified against the exchange's JWKS."""
        response = self.http.get(
            f"{self.exchange.url}/v1/landlords/{self.landlord}/feed",
            params={"since": since},
            headers=self._request_header(),
        )
        doc = _answer(response)
        grants = [self.verify_grant(entry["statement"]) for entry in doc["entries"]]
        return grants, int(doc["next"])

    def verify_grant(self, statement: str) -> dict[str, Any]:
        kid = str(jws.split(statement, signing.MAX_STATEMENT_BYTES).header.get("kid"))
        if kid not in self._market_keys:
            self._market_keys = jws.keys_from_jwks(self.exchange.get(signing.JWKS_PATH))
        claims = jws.verify(
            jws.split(statement, signing.MAX_STATEMENT_BYTES), self._market_keys, signing.TYP_GRANT
        )
        if claims.get("aud") != self.landlord:
            raise jws.JWSError(f"the grant is for {claims.get('aud')!r}, not {self.landlord!r}")
        return claims

    def set_probe_credential(self, credential_id: str, secret: str) -> dict[str, Any]:
        """Give the exchange an application credential for the checks that need a token."""
        response = self.http.put(
            f"{self.exchange.url}/v1/landlords/{self.landlord}/probe-credential",
            json={"id": credential_id, "secret": secret},
            headers=self._request_header(),
        )
        return dict(_answer(response)["landlord"])

    def settlement(self, period: str) -> dict[str, Any]:
        response = self.http.get(
            f"{self.exchange.url}/v1/landlords/{self.landlord}/settlements/{period}",
            headers=self._request_header(),
        )
        return dict(_answer(response)["settlement"])
