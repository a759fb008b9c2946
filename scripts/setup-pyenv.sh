#!/usr/bin/env bash
# Creates .venv-test, the virtualenv the Python callback tests (tests/integration/
# python_callbacks.rs) run in: the real libraries pinned in python/tests/requirements.txt and
# this repository's module (`pip install ./python`). Idempotent and fast once done: a stamp keyed
# by the hash of the requirements and of python/ skips all of it when nothing changed.
# Measured on the 2-core machine: ~2 min and ~900 MB from an empty pip cache (jaxlib, the Keras
# backend, is 350 MB of it), under a second when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PERFMON_TEST_VENV:-.venv-test}
req=python/tests/requirements.txt
stamp="$venv/.perfmon-stamp"
key=$( (cat "$req"; find python -path '*/__pycache__' -prune -o -type f \
  \( -name '*.py' -o -name '*.toml' -o -name '*.md' \) -print | LC_ALL=C sort | xargs cat) |
  sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$key" ]]; then
  exit 0
fi
if [[ ! -x $venv/bin/python ]]; then
  echo "setup-pyenv: creating $venv" >&2
  python3 -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
if ! cmp -s "$req" "$venv/.requirements" 2>/dev/null; then
  echo "setup-pyenv: installing $req into $venv" >&2
  "${pip[@]}" install -r "$req"
  cp "$req" "$venv/.requirements"
fi
# The module itself: no dependencies; the venv's own setuptools builds it, so no download.
"${pip[@]}" install --no-deps --no-build-isolation --force-reinstall ./python >/dev/null
rm -rf python/build python/*.egg-info
echo "$key" >"$stamp"
