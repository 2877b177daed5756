#!/usr/bin/env bash
# The end-to-end demo on the embedded defaults: comsec parses the
# descriptors Windows ships as COM defaults and answers who may launch,
# activate and call, and why; then it runs the wire: an account, comsecd and
# the echo server on loopback, an NTLM call at PKT_PRIVACY, and a call below
# the server's minimum level refused with the log line that says why; then
# COM: the hello example's object called across processes through its
# OBJREF (resolved at comsecd), with an object returned and a callback, an
# account its AppID does not admit refused with the event that says why,
# the explanation offline, and the remedy applied live.
set -uo pipefail
build=${1:-build}
comcfg="$build/tools/comcfg/comcfg"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ comcfg'; printf ' %q' "$@"; printf '\n'; "$comcfg" "$@"; echo "(exit $?)"; }

# R175: the machine-wide restrictions Windows XP SP2 introduced.
launch_limit='O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)'
access_limit='O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)'

step "SDDL: the machine launch restriction, decoded (R175)"
show sddl parse "$launch_limit"

step "Binary self-relative form, as stored in the registry value"
hex=$("$comcfg" sddl to-hex "$launch_limit")
show sddl to-hex "$launch_limit"
show sddl from-hex "$hex"

step "Hex masks become the canonical rights codes (the elevation moniker's example)"
show sddl parse 'O:BAG:BAD:(A;;0x3;;;IU)(A;;0x3;;;SY)'

step "COM rejects an ACL that mixes old and new formats (access-control-lists-for-com.md)"
show sddl parse --com 'O:BAG:BAD:(A;;0x1;;;BA)(A;;0xb;;;SY)(A;;0x9;;;AU)'

step "A local user may launch and activate locally"
show access-check --sd "$launch_limit" --user "uid:$(id -u)" --local \
  --rights execute,execute_local,activate_local

step "The same user, remotely, may not launch: only Administrators have RL"
show access-check --sd "$launch_limit" --user uid:4242 --group gid:4242 --remote \
  --rights execute,execute_remote

step "root is SYSTEM and Administrators, so remote launch is allowed"
show access-check --sd "$launch_limit" --user unix:root --remote \
  --rights execute,execute_remote,activate_remote

step "Anonymous callers may call locally but not remotely (XP SP2 access restriction)"
show access-check --sd "$access_limit" --user AN --remote --rights execute,execute_remote
show access-check --sd "$access_limit" --user AN --local --rights execute,execute_local

step "A deny ACE wins when it comes first, and the answer names it"
show access-check --sd 'O:BAG:BAD:(D;;CCDCLC;;;NU)(A;;CCDCLC;;;WD)' --user uid:4242 \
  --remote --rights execute,execute_remote --json

step "Bad input is refused with its position (exit 2)"
show sddl parse 'O:BAG:BAD:(A;;CCQQ;;;WD)'

# ---- The configuration store: dcomcnfg as commands ----------------------
store_dir=$(mktemp -d)
trap 'rm -rf "$store_dir"' EXIT  # replaced below once servers run
export COMSEC_STORE="$store_dir/store.db"
appid='{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}'
clsid='{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}'

step "A store with Windows's defaults (XP SP2 restrictions, hardened activation level)"
show init
show machine show

step "An application and its class"
show app create --appid "$appid" --name "Demo OPC server"
show class register --clsid "$clsid" --appid "$appid" --local-server /usr/bin/demo-server

step "Who may launch it remotely? Not an ordinary user: the chain of checks and the remedy"
show explain launch --clsid "$clsid" --user uid:4242 --group gid:4242 --remote --authn-level 6

step "Apply the remedy: grant remote launch in the machine limit and the application"
show perms grant machine-launch-limit --principal uid:4242 --rights execute_remote,activate_remote
show perms grant launch --appid "$appid" --principal uid:4242 --rights execute_remote,activate_remote
show explain launch --clsid "$clsid" --user uid:4242 --group gid:4242 --remote --authn-level 6

step "DCOM hardening: an activation below PKT_INTEGRITY is refused"
show explain activate --clsid "$clsid" --user uid:4242 --remote --authn-level 2

step "Effective settings, each with its source"
show effective --appid "$appid"

step "Export as a .reg file (regedit's format)"
show reg export 'HKCR\AppID'

# ---- The wire: NTLM over DCE/RPC ----------------------------------------
step "An account in the store's machine domain (only its NT hash is kept)"
printf '$ echo ******** | comcfg user add demo --password-stdin\n'
echo 'Demo#Passw0rd' | "$comcfg" user add demo --password-stdin
show user list

step "The account database is a separate file only its owner may read (issue 9)"
ls -l "$store_dir" | sed -n 's/^\([-rwx]*\) .* \([^ ]*\)$/\1  \2/p'

# The echo server runs as an unprivileged user when the demo runs as root:
# it cannot read the secrets file, so comsecd validates its NTLM logons.
server_user=$(id -un); server_uid=$(id -u)
run_server=()
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  server_user=nobody; server_uid=$(id -u nobody)
  run_server=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi
step "comsecd (endpoint mapper, logon service) and comsec-echo-server as $server_user (minimum level PKT_INTEGRITY)"
rpc_dir=$(mktemp -d)
chmod 755 "$rpc_dir" "$store_dir"
echo_dir="$rpc_dir/echo"
mkdir -m 755 "$echo_dir"
chown "$server_user" "$echo_dir"
# A copy the server's user can run wherever the build tree lives.
cp "$build/examples/echo/comsec-echo-server" "$rpc_dir/" && chmod 755 "$rpc_dir/comsec-echo-server"
hello_pid=
trap 'kill $echo_pid $hello_pid $comsecd_pid 2>/dev/null; pkill -f "$rpc_dir/comsec-hello-server" 2>/dev/null; rm -rf "$store_dir" "$rpc_dir"' EXIT
# Clients look endpoints up over TCP; servers register and have logons
# validated over ncalrpc, where the kernel tells comsecd who asks.
"$build/tools/comsecd/comsecd" --store "$COMSEC_STORE" --trust-uid "$server_uid" \
    --listen 'ncacn_ip_tcp:127.0.0.1[0]' --listen "ncalrpc:$rpc_dir/comsecd" \
    > "$rpc_dir/comsecd.out" 2>&1 &
comsecd_pid=$!
for _ in $(seq 50); do [ "$(grep -c '^listening on' "$rpc_dir/comsecd.out")" = 2 ] && break; sleep 0.1; done
epm=$(sed -n 's/^listening on //p' "$rpc_dir/comsecd.out" | head -1)
echo "comsecd: listening on $epm and ncalrpc:$rpc_dir/comsecd"
"${run_server[@]}" "$rpc_dir/comsec-echo-server" --listen 'ncacn_ip_tcp:127.0.0.1[0]' \
    --listen "ncalrpc:$echo_dir/echo.sock" --endpoint-mapper "ncalrpc:$rpc_dir/comsecd" \
    --logon-service "ncalrpc:$rpc_dir/comsecd" --min-auth-level 5 \
    > "$rpc_dir/echo.out" 2> "$rpc_dir/echo.log" &
echo_pid=$!
for _ in $(seq 50); do grep -q registered "$rpc_dir/echo.out" 2>/dev/null && break; sleep 0.1; done
sed 's/^/comsec-echo-server: /' "$rpc_dir/echo.out"
printf '$ runuser -u %s -- comcfg user list   # the secrets are not %s'"'"'s to read\n' "$server_user" "$server_user"
if [ "$server_user" = nobody ]; then
  cp "$comcfg" "$rpc_dir/" && chmod 755 "$rpc_dir/comcfg"
  "${run_server[@]}" "$rpc_dir/comcfg" user list
  echo "(exit $?)"
fi

client="$build/examples/echo/comsec-echo-client"
ntlm=(--auth ntlm --user demo --password 'Demo#Passw0rd')
step "NTLM at PKT_PRIVACY: found through the endpoint mapper, every PDU signed and sealed"
for args in whoami "add 20 22" "echo --size 100000"; do
  printf '$ comsec-echo-client --binding ncacn_ip_tcp:127.0.0.1 --endpoint-mapper %s --auth ntlm --user demo --password ******** --level 6 %s\n' "$epm" "$args"
  # shellcheck disable=SC2086
  "$client" --binding ncacn_ip_tcp:127.0.0.1 --endpoint-mapper "$epm" "${ntlm[@]}" --level 6 $args
done

step "The same account at CONNECT, below the server's minimum: refused, no stub runs"
printf '$ comsec-echo-client --binding ncacn_ip_tcp:127.0.0.1 --endpoint-mapper %s --auth ntlm --user demo --password ******** --level 2 whoami\n' "$epm"
"$client" --binding ncacn_ip_tcp:127.0.0.1 --endpoint-mapper "$epm" "${ntlm[@]}" --level 2 whoami
echo "(exit $?)"
step "A wrong password: refused"
"$client" --binding ncacn_ip_tcp:127.0.0.1 --endpoint-mapper "$epm" --auth ntlm --user demo \
    --password wrong --level 6 whoami
echo "(exit $?)"
# The server logs a close after sending its fault: give a busy machine time.
for _ in $(seq 1 50); do
  [ "$(grep -c 'closing connection' "$rpc_dir/echo.log")" -ge 2 ] && break
  sleep 0.1
done
step "The server's log says who was refused, from where, and why; comsecd's, which check failed"
sed 's/^/comsec-echo-server: /' "$rpc_dir/echo.log"
grep 'refused' "$rpc_dir/comsecd.out"

step "On ncalrpc the kernel names the caller; the local package runs at PKT_PRIVACY"
printf '$ comsec-echo-client --binding ncalrpc:%s --server-uid %s --auth local --level 6 whoami\n' "$echo_dir/echo.sock" "$server_uid"
"$client" --binding "ncalrpc:$echo_dir/echo.sock" --server-uid "$server_uid" --auth local --level 6 whoami

# ---- COM: an object served across processes (MS-DCOM) -------------------
step "The hello example's AppID asks for PKT_INTEGRITY or better and lets the demo account call (comcfg, as dcomcnfg would)"
show app create --appid '{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}' --name ComsecHello
show app set '{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}' AuthenticationLevel 5
show perms grant access --appid '{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}' --principal demo --rights execute_local,execute_remote
step "comsec-hello-server as $server_user: a COM object, its OXID registered with comsecd"
cp "$build/examples/hello/comsec-hello-server" "$rpc_dir/" && chmod 755 "$rpc_dir/comsec-hello-server"
"${run_server[@]}" "$rpc_dir/comsec-hello-server" --store "$COMSEC_STORE" \
    --resolver "ncalrpc:$rpc_dir/comsecd" --print-objref --log-format json \
    > "$rpc_dir/hello.out" 2> "$rpc_dir/hello.log" &
hello_pid=$!
for _ in $(seq 50); do grep -q '^objref' "$rpc_dir/hello.out" 2>/dev/null && break; sleep 0.1; done
objref=$(sed -n 's/^objref //p' "$rpc_dir/hello.out")
sed 's/^objref \(.\{48\}\).*/objref \1.../; s/^/comsec-hello-server: /' "$rpc_dir/hello.out"
hello="$build/examples/hello/comsec-hello-client"
step "Calls through the OBJREF: resolved at comsecd, NTLM at PKT_PRIVACY, an object returned, a callback"
for args in "greet world" whoami child "callback demo"; do
  printf '$ comsec-hello-client --objref ... --auth ntlm --user demo --password-stdin --level 6 %s\n' "$args"
  # shellcheck disable=SC2086
  echo 'Demo#Passw0rd' | "$hello" --objref "$objref" --auth ntlm --user demo --password-stdin --level 6 $args
done
step "Unauthenticated, below the AppID's PKT_INTEGRITY: refused"
printf '$ comsec-hello-client --objref ... whoami\n'
"$hello" --objref "$objref" whoami
echo "(exit $?)"
for _ in $(seq 1 30); do grep -q access_denied "$rpc_dir/hello.log" && break; sleep 0.1; done
# One event per refusal; its fields (JSON) say who, which rule, and how to
# change the answer.
event_field() {  # the last com.access_denied event's field $1
  /usr/bin/python3 -c 'import json,sys
e=[json.loads(l) for l in open(sys.argv[1]) if "com.access_denied" in l][-1]
print(e.get(sys.argv[2], ""))' "$rpc_dir/hello.log" "$1"
}
echo "comsec-hello-server: com.access_denied: $(event_field message)"

step "An account the AppID's AccessPermission does not name: refused before any method runs (R187)"
echo 'Guest#Passw0rd' | "$comcfg" user add guest --password-stdin
printf '$ comsec-hello-client --objref ... --auth ntlm --user guest --password-stdin --level 6 whoami\n'
echo 'Guest#Passw0rd' | "$hello" --objref "$objref" --auth ntlm --user guest --password-stdin --level 6 whoami
echo "(exit $?)"
for _ in $(seq 1 30); do [ "$(grep -c access_denied "$rpc_dir/hello.log")" -ge 2 ] && break; sleep 0.1; done
for f in principal reason detail remedy explain; do
  printf 'comsec-hello-server: com.access_denied %s=%s\n' "$f" "$(event_field "$f")"
done
step "The event's explain command, run offline, gives the same answer"
explain=$(event_field explain)
echo "\$ $explain"
eval "\"\$comcfg\" ${explain#comcfg }"
echo "(exit $?)"
step "The event's remedy, applied while the server runs; the same call is served"
remedy=$(event_field remedy)
echo "\$ $remedy"
eval "\"\$comcfg\" ${remedy#comcfg }"
echo 'Guest#Passw0rd' | "$hello" --objref "$objref" --auth ntlm --user guest --password-stdin --level 6 whoami
echo "(exit $?)"

# ---- Activation: comsecd is the SCM (issue 15) -----------------------------
step "Register the hello class: comsecd's SCM starts its LocalServer32 when a client asks"
kill "$hello_pid"; wait "$hello_pid" 2>/dev/null; hello_pid=
show class register --clsid '{7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162}' --appid '{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}' --local-server "$rpc_dir/comsec-hello-server --embedding"
show perms grant launch --appid '{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}' --principal demo --rights execute_local,execute_remote,activate_local,activate_remote
# Remote launch and activation for every authenticated account machine-wide;
# each application's launch permission still decides.
show perms grant machine-launch-limit --principal AU --rights execute_remote,activate_remote
# As Activator: the server runs as the Unix account the store account maps to.
show user set demo --unix-user "$server_user"
show user set guest --unix-user "$server_user"
scm_port=${epm##*[}; scm_port=${scm_port%]}
step "Activate locally (ncalrpc; the kernel names the caller) and call it"
printf '$ comsec-hello-client --server localhost --local-scm ncalrpc:%s --auth local --level 6 greet local\n' "$rpc_dir/comsecd"
"$hello" --server localhost --local-scm "ncalrpc:$rpc_dir/comsecd" --auth local --level 6 greet local
step "Activate remotely: TCP to comsecd at PKT_PRIVACY as demo, then call the new object"
printf '$ comsec-hello-client --server "127.0.0.1[%s]" --auth ntlm --user demo --password-stdin --level 6 whoami\n' "$scm_port"
echo 'Demo#Passw0rd' | "$hello" --server "127.0.0.1[$scm_port]" --auth ntlm --user demo --password-stdin --level 6 whoami
grep '^.*activation.launched' "$rpc_dir/comsecd.out" | sed 's/^/comsecd: /' | cut -c1-220
step "guest is outside the launch ACL: refused, one audit event, comcfg log shows it"
printf '$ comsec-hello-client --server "127.0.0.1[%s]" --auth ntlm --user guest --password-stdin --level 6 whoami\n' "$scm_port"
echo 'Guest#Passw0rd' | "$hello" --server "127.0.0.1[$scm_port]" --auth ntlm --user guest --password-stdin --level 6 whoami
echo "(exit $?)"
show log --since 10m
scm_field() {  # the last activation.denied event's field $1, from the audit trail
  "$comcfg" log --json | /usr/bin/python3 -c 'import json,sys
e=[x for x in json.load(sys.stdin) if x.get("event")=="activation.denied"][-1]
print(e.get(sys.argv[1], ""))' "$1"
}
step "The audit event's remedy, applied with comcfg; the same activation succeeds"
remedy=$(scm_field remedy)
echo "\$ $remedy"
eval "\"\$comcfg\" ${remedy#comcfg }"
echo 'Guest#Passw0rd' | "$hello" --server "127.0.0.1[$scm_port]" --auth ntlm --user guest --password-stdin --level 6 whoami
echo "(exit $?)"

step "Stopping comsecd and the servers"
pkill -f "$rpc_dir/comsec-hello-server" 2>/dev/null
kill "$echo_pid" "$comsecd_pid"
wait "$echo_pid" "$comsecd_pid" 2>/dev/null
echo "stopped"
exit 0
