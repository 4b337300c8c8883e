#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when something is missing. postgresql-client brings
# psql and the pg_dump / pg_restore that `fangkong backup` and `fangkong restore-check` run (production too).
set -euo pipefail
needed=()
[ -x /usr/bin/chromium ] || needed+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || needed+=(fonts-noto-cjk)
dpkg -s libpq5 >/dev/null 2>&1 || needed+=(libpq5)
{ command -v psql && command -v pg_dump && command -v pg_restore; } >/dev/null 2>&1 || needed+=(postgresql-client)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages: ${needed[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}"
