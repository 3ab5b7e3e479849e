#!/usr/bin/env bash
# Install the real OpenStack Swift (from PyPI) and keystonemiddleware into their own venv,
# .venv-swift at the repository root, so their oslo.* and eventlet pins never meet the
# project's venv. Idempotent: a stamp file records what is installed, and a second run with
# the same pins does nothing.
#
#   bash bench/peers/install-swift.sh        (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

SWIFT_VERSION=2.38.3
KSM_VERSION=13.0.1
PINS="swift==${SWIFT_VERSION} keystonemiddleware==${KSM_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${SWIFT_VENV:-$ROOT/.venv-swift}"
STAMP="$VENV/.ocx-installed"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" && -x "$VENV/bin/swift-proxy-server" ]]; then
    exit 0
fi

echo "installing $PINS into $VENV" >&2
"${PYTHON:-python3}" -m venv "$VENV"
# shellcheck disable=SC2086  # PINS is a list of requirement specifiers
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS
echo "$PINS" > "$STAMP"
