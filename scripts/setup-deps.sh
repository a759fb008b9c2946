#!/usr/bin/env bash
# Installs what the test suite needs besides the Rust toolchain: GNU time (the independent source
# of rusage figures), python3 (the fixture workloads and scripts/msrv), and tmux and less (the
# terminal tests in tests/integration/tmux.rs type perfmon commands into a tmux pane), and the
# virtualenv of the Python callback tests (scripts/setup-pyenv.sh), and PostgreSQL (the
# PostgreSQL store's tests run a throwaway server: scripts/pg-test-server). Idempotent;
# uses apt-get when root.
set -euo pipefail
# The lint step of `make test` needs rustfmt and clippy.
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c" >&2
  done
fi
need=()
[[ -x /usr/bin/time ]] && /usr/bin/time -f %e true >/dev/null 2>&1 || need+=(time)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v less >/dev/null 2>&1 || need+=(less)
# The shell completion tests (tests/integration/cli.rs) load the zsh and fish scripts; groff
# renders the man page.
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
command -v groff >/dev/null 2>&1 || need+=(groff-base)
# The TLS tests (tests/integration/postgres_tls.rs) make their certificates with openssl.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The Python callback tests' virtualenv (scripts/setup-pyenv.sh) needs venv with ensurepip.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# scripts/pg-test-server finds initdb on PATH or under /usr/lib/postgresql/*/bin (Debian's place).
if ! { command -v initdb || compgen -G '/usr/lib/postgresql/*/bin/initdb'; } >/dev/null 2>&1 ||
  ! command -v psql >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ((${#need[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null; then
    echo "setup-deps: please install: ${need[*]}" >&2
    exit 1
  fi
  SUDO=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
  echo "setup-deps: installing ${need[*]}" >&2
  # Debian's postgresql starts a cluster of its own on install; the tests start theirs, so a
  # policy-rc.d that refuses service starts stands for the time of the install.
  policy=
  if [[ " ${need[*]} " == *" postgresql "* && ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    trap '$SUDO rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  [[ -z $policy ]] || { $SUDO rm -f "$policy" && trap - EXIT; }
fi
"$(dirname "$0")/setup-pyenv.sh"
