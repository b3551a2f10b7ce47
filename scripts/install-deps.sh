#!/usr/bin/env bash
# Installs everything itkd needs to build, test and demo, from Debian 12 packages only.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libseccomp-dev libgtest-dev libssl-dev
  clang libclang-rt-14-dev          # libFuzzer and the sanitizer runtimes
  python3 curl media-types procps   # end-to-end tests, /etc/mime.types
  testssl.sh                        # TLS policy check in the e2e suite
  php-cgi                           # managed FastCGI (mod_fcgid style) tests
  php-fpm perl openssl gcc strace   # e2e: php-fpm pools, CGI scripts, test CA, C CGI attacks, key-open tracing
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "itkd: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
