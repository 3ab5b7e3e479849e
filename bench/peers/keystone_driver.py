"""Keystone's own code, run by .venv-keystone's interpreter (never imported by OCX).

OS_BOOTSTRAP_PASSWORD=... python keystone_driver.py setup CONF PUBLIC_URL
    db_sync, fernet_setup, receipt_setup, credential_setup and bootstrap, exactly as
    ``keystone-manage`` runs them, but in one interpreter: importing keystone takes
    ~1.5 s, so five separate ``keystone-manage`` processes would cost ~7 s. When keystone.conf
    names a ``[saml] idp_entity_id``, saml_idp_metadata too, written to ``[saml]
    idp_metadata_path`` (where Keystone serves it from).
python keystone_driver.py hash-cost CONF SAMPLES
    prints JSON: the configured algorithm and rounds, and the median milliseconds of
    keystone.common.password_hashing.hash_password and check_password.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import statistics
import sys
import time
import warnings
from collections.abc import Callable


def _owner() -> list[str]:
    # keystone-manage insists on these when run as root; harmless otherwise.
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return ["--keystone-user", user, "--keystone-group", group]


def setup(conf: str, public_url: str) -> None:
    from keystone.cmd import cli
    from keystone.conf import CONF

    commands = [
        ["db_sync"],
        ["fernet_setup", *_owner()],
        ["receipt_setup", *_owner()],
        ["credential_setup", *_owner()],
        [
            "bootstrap",  # the password comes from OS_BOOTSTRAP_PASSWORD, not argv
            "--bootstrap-public-url",
            public_url,
            "--bootstrap-region-id",
            "RegionOne",
        ],
    ]
    for command in commands:
        started = time.monotonic()
        CONF.clear()  # lets keystone-manage's main() parse a second command line
        cli.main(["keystone-manage", "--config-file", conf, *command])
        print(f"{command[0]}: {time.monotonic() - started:.2f}s", file=sys.stderr)
    if CONF.saml.idp_entity_id:
        _saml_idp_metadata(conf)


def _saml_idp_metadata(conf: str) -> None:
    from keystone.cmd import cli
    from keystone.conf import CONF

    path = CONF.saml.idp_metadata_path
    CONF.clear()
    # keystone-manage prints the metadata; an operator redirects it into this file.
    with open(path, "w") as out, contextlib.redirect_stdout(out):
        cli.main(["keystone-manage", "--config-file", conf, "saml_idp_metadata"])


def hash_cost(conf: str, samples: int) -> None:
    import keystone.conf
    from keystone.common import password_hashing

    keystone.conf.configure()
    keystone.conf.CONF(args=[], project="keystone", default_config_files=[conf])
    secret = "correct horse battery"
    hashed = password_hashing.hash_password(secret)
    identity = keystone.conf.CONF.identity
    print(
        json.dumps(
            {
                "algorithm": identity.password_hash_algorithm,
                "rounds": identity.password_hash_rounds,
                "hash_ms": _median_ms(lambda: password_hashing.hash_password(secret), samples),
                "verify_ms": _median_ms(
                    lambda: password_hashing.check_password(secret, hashed), samples
                ),
            }
        )
    )


def _median_ms(call: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    warnings.simplefilter("ignore")  # eventlet and pycadf warn loudly on import
    if argv[:1] == ["setup"] and len(argv) == 3:
        setup(argv[1], argv[2])
    elif argv[:1] == ["hash-cost"] and len(argv) == 3:
        hash_cost(argv[1], int(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
