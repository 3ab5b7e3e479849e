#!/usr/bin/env bash
# Install OpenStack's own test suite, Tempest (from PyPI), into its own venv, .venv-tempest at
# the repository root, so its oslo.* pins never meet the project's venv. Idempotent: a stamp
# file records what is installed, and a second run with the same pins does nothing.
#
#   bash bench/peers/install-tempest.sh        (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

TEMPEST_VERSION=47.0.0
PINS="tempest==${TEMPEST_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${TEMPEST_VENV:-$ROOT/.venv-tempest}"
STAMP="$VENV/.ocx-installed"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" && -x "$VENV/bin/tempest" ]]; then
    exit 0
fi

echo "installing $PINS into $VENV" >&2
"${PYTHON:-python3}" -m venv "$VENV"
# shellcheck disable=SC2086  # PINS is a list of requirement specifiers
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS
echo "$PINS" > "$STAMP"
