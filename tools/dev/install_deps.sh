#!/usr/bin/env bash
# Installs what kfk needs to build and test on Debian 12, only what is
# missing. Safe to run repeatedly.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config python3 clang
  libuv1-dev libssl-dev nlohmann-json3-dev doctest-dev
  zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
  librdkafka-dev kcat gzip lz4 zstd
  python3-kafka python3-lz4 python3-snappy python3-zstandard
  nodejs npm
)
if [[ "${KFK_WITH_SANITIZER_RUNTIME:-1}" == 1 ]]; then packages+=(libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (nvm, the image): accept any working one.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"

if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
