#!/usr/bin/env bash
# Install the real OpenStack Keystone (from PyPI) into its own venv, .venv-keystone at the
# repository root, so its oslo.* pins never meet the project's venv. Idempotent: a stamp
# file records what is installed, and a second run with the same pins does nothing.
#
#   bash bench/peers/install-keystone.sh        (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

KEYSTONE_VERSION=30.0.0
GUNICORN_VERSION=27.0.1
PINS="keystone==${KEYSTONE_VERSION} gunicorn==${GUNICORN_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${KEYSTONE_VENV:-$ROOT/.venv-keystone}"
STAMP="$VENV/.ocx-installed"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" && -x "$VENV/bin/gunicorn" ]]; then
    exit 0
fi

echo "installing $PINS into $VENV" >&2
"${PYTHON:-python3}" -m venv "$VENV"
# shellcheck disable=SC2086  # PINS is a list of requirement specifiers
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS
echo "$PINS" > "$STAMP"
