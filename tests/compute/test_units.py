"""The pure parts of compute, without a server: scheduling, states, guests, microversions,
and the delegation proofs."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocx.common import delegation, errors
from ocx.compute import guest, microversion, states
from ocx.compute.scheduler import Need, Placement, offers
from ocx.compute.settings import HostConfig


def test_placement_spreads_and_respects_capacity() -> None:
    hosts = [HostConfig(name="a", vcpus=2, ram_mb=1024), HostConfig(name="b", vcpus=2, ram_mb=1024)]
    placement = Placement(hosts, cpu_ratio=1.0, ram_ratio=1.0, disk_ratio=1.0)
    need = Need(1, 512, 1)
    assert sorted(placement.place(need, 4)) == ["a", "a", "b", "b"]
    assert placement.place(need, 1) == []
    placement.release("a", need)
    assert placement.place(need, 1) == ["a"]


def test_extra_specs_pick_hosts() -> None:
    fpga = HostConfig(name="f", traits=("CUSTOM_FPGA",), capabilities={"fpga": "true"})
    plain = HostConfig(name="p")
    assert offers(fpga, {"trait:CUSTOM_FPGA": "required", "hw:fpga": "True"})
    assert not offers(plain, {"trait:CUSTOM_FPGA": "required"})
    assert not offers(fpga, {"trait:CUSTOM_FPGA": "forbidden"})
    assert not offers(plain, {"hw:fpga": "true"})
    assert offers(plain, {"quota:cpu_shares": "1024"})  # not a scheduling hint


def test_state_machine() -> None:
    assert states.status("active", "rebooting") == "REBOOT"
    assert states.status("stopped", None) == "SHUTOFF"
    with pytest.raises(errors.Conflict, match="while it is in vm_state stopped"):
        states.check(states.ACTIONS["stop"], "s", "stopped", None)
    with pytest.raises(errors.Conflict, match="task_state powering-off"):
        states.check(states.ACTIONS["start"], "s", "stopped", "powering-off")


def test_microversion_parsing() -> None:
    parse = microversion.requested
    assert str(parse({})) == "2.1"
    assert str(parse({"openstack-api-version": "volume 3.5, compute 2.79"})) == "2.79"
    assert str(parse({"x-openstack-nova-api-version": "latest"})) == "2.100"
    with pytest.raises(microversion.VersionError) as found:
        parse({"openstack-api-version": "compute 2.101"})
    assert found.value.status == 406


def test_workload_parsing() -> None:
    found = guest.parse("# c\necho hi there\nchecksum vdb 0 10\nwrite vdc 5 'a b'\nbad 'quote\n")
    assert [(c.verb, c.disk) for c in found] == [
        ("echo", None), ("checksum", "vdb"), ("write", "vdc"), ("error", None),
    ]  # fmt: skip
    assert found[2].args == ("vdc", "5", "a b")


def _proof_setup() -> tuple[Ed25519PrivateKey, str, str]:
    key = Ed25519PrivateKey.generate()
    return (
        key,
        "the.delegation.token",
        delegation.thumbprint(delegation.public_jwk(key.public_key())),
    )


def test_proofs_bind_key_request_token_and_time() -> None:
    key, token, jkt = _proof_setup()
    checker = delegation.ProofChecker()
    url = "http://stor/v3/volumes/v"
    proof = delegation.make_proof(key, token, "GET", url)
    checker.check(proof, token, jkt, "GET", url + "?x=1")  # the query is not part of htu
    with pytest.raises(errors.Unauthorized, match="replay"):
        checker.check(proof, token, jkt, "GET", url)
    with pytest.raises(errors.Unauthorized, match="another request"):
        checker.check(delegation.make_proof(key, token, "GET", url), token, jkt, "DELETE", url)
    with pytest.raises(errors.Unauthorized, match="another token"):
        checker.check(delegation.make_proof(key, "other", "GET", url), token, jkt, "GET", url)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(errors.Unauthorized, match="another presenter"):
        checker.check(delegation.make_proof(other, token, "GET", url), token, jkt, "GET", url)
    with pytest.raises(errors.Unauthorized, match="proof of possession"):
        checker.check(None, token, jkt, "GET", url)
    tampered = proof[:-4] + ("AAAA" if not proof.endswith("AAAA") else "BBBB")
    with pytest.raises(errors.Unauthorized):
        delegation.ProofChecker().check(tampered, token, jkt, "GET", url)


def test_constrain_limits_lifetime_and_scope() -> None:
    now = time.time()
    claims = {"sub": "u", "jti": "j", "exp": now + 3600, "aud": "stor", "methods": ["password"],
              "app_cred": {"id": "x"}, "project": {"id": "p"}}  # fmt: skip
    out = delegation.constrain(claims, landlord="stor", volume_id="v", jkt="k", ttl=10_000)
    assert out["aud"] == "stor:volume" and out["exp"] <= now + delegation.MAX_TTL + 1
    assert out["jti"] != "j" and out["chain"] == "j" and "app_cred" not in out
    assert out["ocx_constraints"] == {"volume_id": "v", "operations": ["attach", "detach"]}
    short = delegation.constrain({**claims, "exp": now + 5}, landlord="stor", volume_id="v",
                                 jkt="k", ttl=600)  # fmt: skip
    assert short["exp"] <= now + 5
