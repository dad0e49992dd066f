#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
# Idempotent: silent and quick when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libluajit-5.1-dev libxml2-dev libicu-dev libcurl4-openssl-dev liblmdb-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libseccomp-dev libcli11-dev
  libssl-dev libsqlite3-dev zlib1g-dev
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO=sudo
  else
    echo "deps: these packages are missing: ${missing[*]}" >&2
    echo "deps: run this script as root (or install them with apt-get)." >&2
    exit 1
  fi
else
  SUDO=
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
