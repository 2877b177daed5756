#!/usr/bin/env bash
# Installs the Debian 12 packages comsec builds, tests and benchmarks with.
# Idempotent: installs only what is missing, runs `apt-get update` once and
# only when something is missing, and uses sudo when not root.
#
# --bench adds the packages only `make bench` needs (gRPC, the comparison the
# RPC benchmarks report against), so that building and testing never need
# them.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-14-dev llvm
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev
  libsqlite3-dev libssl-dev libasio-dev
  # The openssl command makes the TLS interop test's certificates.
  openssl
  python3-impacket
  tshark
  # Kerberos: MIT GSSAPI to build against, and the KDC, kadmin.local and
  # kinit that the tests' throwaway realm (tests/support/krb_test_kdc.sh)
  # runs on loopback. The packages' own daemons are never used.
  libkrb5-dev krb5-kdc krb5-admin-server krb5-user
  # The LDAP KDB and a private slapd on a Unix socket for constrained
  # delegation (S4U2Proxy) tests (krb_test_kdc.sh KDB=ldap,
  # tests/auth/kerberos_s4u_test.cc); the system slapd is never used.
  slapd krb5-kdc-ldap ldap-utils
  # gss-ntlmssp: an independent NTLM acceptor inside MIT's SPNEGO for the
  # Negotiate interop test (tests/interop/gss_ntlmssp_acceptor_test.cc,
  # which pins GSS_MECH_CONFIG; it installs /etc/gss/mech.d/mech.ntlmssp.conf,
  # which comsec's own packages never read: they name their mechanisms).
  gss-ntlmssp
)
bench_packages=(
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
)

for arg in "$@"; do
  case "$arg" in
    --bench) packages+=("${bench_packages[@]}") ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The packages' own daemons (krb5kdc, slapd: Debian's slapd would listen on
# every interface) must not start: the tests run private ones on loopback.
# Where no policy-rc.d forbids it (containers have one), one is put in place
# for this install only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
# env: sudo does not pass DEBIAN_FRONTEND on (tshark asks a debconf question).
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
