#!/usr/bin/env bash
# Install OpenStack Horizon (PyPI `horizon`, which ships `openstack_dashboard`) and the WSGI
# server that runs it into their own venv, .venv-horizon at the repository root: Horizon pins
# Django and the oslo.* libraries, which must never meet the project's venv. `ocx up` runs the
# exchange operator's `dashboard` part from this venv. Idempotent: a stamp file records what
# is installed, and a second run with the same pins does nothing.
#
#   bash scripts/install-horizon.sh        (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail

HORIZON_VERSION=27.0.0
GUNICORN_VERSION=27.0.1
PINS="horizon==${HORIZON_VERSION} gunicorn==${GUNICORN_VERSION}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HORIZON_VENV:-$ROOT/.venv-horizon}"
STAMP="$VENV/.ocx-installed"

# The collected static files depend on OCX's Horizon settings and plugin as well as on the pins.
PLUGIN_HASH="$(cd "$ROOT/src/ocx/dashboard/horizon" && find . -type f ! -name '*.pyc' -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
WANT="$PINS plugin=$PLUGIN_HASH"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/gunicorn" ]]; then
    exit 0
fi

echo "installing $PINS into $VENV" >&2
"${PYTHON:-python3}" -m venv "$VENV"
# shellcheck disable=SC2086  # PINS is a list of requirement specifiers
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS

# Collect Horizon's static files and compress its pages' CSS and JS once, under OCX's settings
# (the dashboard part serves them from $VENV/ocx-static; see src/ocx/dashboard/settings.py).
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
mkdir "$BUILD/path"
ln -s "$ROOT/src/ocx" "$BUILD/path/ocx"
cat > "$BUILD/horizon.json" <<JSON
{"keystone_url": "http://localhost/v3", "exchange_url": null, "default_region": "ocx", "regions": [], "websso": [],
 "secret_key": "build-only", "public_url": "http://localhost", "static_root": "$VENV/ocx-static",
 "data_dir": "$BUILD", "secure_cookies": false, "session_timeout": 3600}
JSON
export PYTHONPATH="$BUILD/path" DJANGO_SETTINGS_MODULE=ocx.dashboard.horizon.settings \
    OCX_DASHBOARD_CONFIG="$BUILD/horizon.json"
"$VENV/bin/python" -W ignore -m django collectstatic --noinput --verbosity 0
"$VENV/bin/python" -W ignore -m django compress --force --verbosity 0
echo "$WANT" > "$STAMP"
