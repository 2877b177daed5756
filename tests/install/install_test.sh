#!/usr/bin/env bash
# The installed package works without comsec's tree (issue 10 item 9):
#  1. `cmake --install` of this build into a temporary DESTDIR (prefix
#     /usr/local, as `make install`); every header of src/ is there under
#     include/comsec/, the five programs under bin/, comsecd.service under
#     lib/systemd/system, and no installed CMake, pkg-config or unit file
#     names the source or build tree;
#  2. a copy of examples/echo configures with find_package(comsec) through
#     CMAKE_PREFIX_PATH alone, builds, and its server answers its client's
#     Add and Echo on a free loopback port;
#  3. a one-file program builds with `pkg-config --cflags --libs comsec`
#     (the prefix redirected into the DESTDIR) and runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR CMAKE CXX GENERATOR
#                        [LAUNCHER] [EXTRA_CXX_FLAGS]
set -euo pipefail
build=$1 source=$2 work=$3 cmake=$4 cxx=$5 generator=$6
launcher=${7:-} extra_flags=${8:-}
prefix=/usr/local

fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
# Runs a step quietly; its output only when it fails.
quiet() {
  local log=$work/step.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

rm -rf "$work"
mkdir -p "$work"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# 1. Install.
destdir=$work/destdir
root=$destdir$prefix
DESTDIR=$destdir quiet "$cmake" --install "$build" --prefix "$prefix"
ok "cmake --install into DESTDIR=$destdir"

missing=$(cd "$source/src" && find . -name '*.h' | sed 's|^\./||' | sort |
          while read -r h; do [ -f "$root/include/comsec/$h" ] || echo "$h"; done)
[ -z "$missing" ] || fail "headers not installed: $missing"
ok "every header of src/ under include/comsec/"
for tool in comcfg comsecd comsec-surrogate comsec-echo-server comsec-echo-client; do
  [ -x "$root/bin/$tool" ] || fail "bin/$tool not installed"
done
ok "comcfg, comsecd, comsec-surrogate, comsec-echo-server, comsec-echo-client under bin/"

# The systemd unit, naming the installed programs (the prefix, not the
# DESTDIR), with none of the sandboxing that would stop comsecd launching
# servers as other users.
unit=$root/lib/systemd/system/comsecd.service
[ -f "$unit" ] || fail "lib/systemd/system/comsecd.service not installed"
grep -qx "ExecStart=$prefix/bin/comsecd --store /var/lib/comsec/store.db --listen ncacn_ip_tcp:0.0.0.0\[135\] --listen ncalrpc:\[epmapper\]" "$unit" ||
  fail "comsecd.service's ExecStart: $(grep ExecStart= "$unit")"
for line in Restart=on-failure RuntimeDirectory=comsec StateDirectory=comsec \
            LogsDirectory=comsec After=network.target; do
  grep -qx "$line" "$unit" || fail "comsecd.service lacks $line"
done
if grep -nE '^(NoNewPrivileges|CapabilityBoundingSet|PrivateTmp|ProtectSystem|ProtectHome|User|DynamicUser)=' "$unit"; then
  fail "comsecd.service confines what comsecd's launched servers may do"
fi
grep -nE '@[A-Z_]+@' "$unit" && fail "comsecd.service has an unsubstituted @VARIABLE@"
ok "lib/systemd/system/comsecd.service runs $prefix/bin/comsecd"

config=$(find "$root" -name comsecConfig.cmake)
pc=$(find "$root" -name comsec.pc)
[ -n "$config" ] || fail "no comsecConfig.cmake installed"
[ -n "$pc" ] || fail "no comsec.pc installed"
for f in "$(dirname "$config")"/*.cmake "$pc" "$unit"; do
  for tree in "$(cd "$source" && pwd -P)" "$(cd "$build" && pwd -P)" "$destdir"; do
    if grep -n -F "$tree" "$f"; then
      fail "$f names $tree"
    fi
  done
done
ok "installed CMake and pkg-config files name neither tree nor DESTDIR"

# 2. The echo example, out of tree, against the installed package.
# (with examples/common beside it, which the client shares)
mkdir -p "$work/examples-src"
cp -r "$source/examples/echo" "$source/examples/common" "$work/examples-src/"
configure=("$cmake" -S "$work/examples-src/echo" -B "$work/echo-build" -G "$generator"
           -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx"
           -DCMAKE_PREFIX_PATH="$root" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
[ -z "$launcher" ] || configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
[ -z "$extra_flags" ] || configure+=(-DCMAKE_CXX_FLAGS="$extra_flags")
quiet "${configure[@]}"
found=$(sed -n 's/^comsec_DIR:PATH=//p' "$work/echo-build/CMakeCache.txt")
[ "$found" = "$(dirname "$config")" ] || fail "find_package(comsec) found '$found'"
ok "find_package(comsec) -> $found"
quiet "$cmake" --build "$work/echo-build" -j 2
ok "examples/echo built out of tree"

"$work/echo-build/comsec-echo-server" --listen 'ncacn_ip_tcp:127.0.0.1[0]' \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
binding=
for _ in $(seq 100); do
  binding=$(sed -n 's/^listening on //p' "$work/server.out")
  [ -n "$binding" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; fail "server exited"; }
  sleep 0.1
done
[ -n "$binding" ] || fail "the server did not say where it listens"
client=$work/echo-build/comsec-echo-client
sum=$("$client" --binding "$binding" add 2 40) || fail "client add: exit $?"
[ "$sum" = "42" ] || fail "Add(2, 40) answered '$sum'"
ok "out-of-tree client: Add(2, 40) = 42 at $binding"
echoed=$("$client" --binding "$binding" echo --size 1000) || fail "client echo: exit $?"
[ "$echoed" = "echoed 1000 bytes" ] || fail "Echo answered '$echoed'"
ok "out-of-tree client: Echo of 1000 bytes"
kill "$server_pid"
wait "$server_pid" || fail "the server did not stop cleanly on SIGTERM"
server_pid=

# 3. pkg-config.
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs comsec)
echo "     pkg-config --cflags --libs comsec: $flags"
# shellcheck disable=SC2086  # the flags are words
quiet "$cxx" -std=c++20 $extra_flags "$source/tests/install/pkg_config_consumer.cc" \
    $flags -o "$work/pkg_config_consumer"
"$work/pkg_config_consumer" "$work/consumer-store.db" || fail "pkg_config_consumer"
ok "a program built with pkg-config links every layer and runs"
