#!/usr/bin/env bash
# A throwaway MIT Kerberos realm for tests, on loopback, in a directory of
# its own (never the system's KDC, kadmind, /etc/krb5.conf or keytabs):
#
#   krb_test_kdc.sh up DIR     makes the realm in DIR, starts krb5kdc on
#                              127.0.0.1 at a free port, gets the user a
#                              forwardable TGT; prints the path of DIR/env
#   krb_test_kdc.sh down DIR   stops that krb5kdc (by its PID) and removes DIR
#
# DIR/env exports what a test process needs: KRB5_CONFIG and
# KRB5_KDC_PROFILE (the realm's own configuration), KRB5CCNAME (the user's
# ccache), KRB5RCACHEDIR (the acceptor's replay cache stays in DIR), and
# KDC_REALM, KDC_ADDR, KDC_PORT, KDC_DIR. Files in DIR:
#   service.keytab  current keys of every SPN
#   stale.keytab    keys of every SPN one version older (a server whose
#                   keytab was not updated after a re-key)
#   user.keytab     the user's keys (kinit -k, or a client keytab)
#   kdc.log         the KDC's log; setup.log: what the setup commands said
#
# Knobs (environment): REALM (COMSEC.TEST), USER_PRINCIPAL (alice),
# USER_PASSWORD (a random one), SPNS ("RPCSS/localhost host/localhost"),
# EXTRA_PRINCIPALS (SPNs the KDC knows but no keytab holds), EXTRA_USERS
# (more user principals, with random keys in user.keytab).
# KDB=ldap: the realm's database is a private slapd listening only on a
# Unix socket in DIR (DIR/ldapi), the one MIT KDB that implements
# constrained delegation (S4U2Proxy); DELEG_TO="SPN=TARGET ..." then sets
# krbAllowedToDelegateTo TARGET on SPN's entry. Needs slapd, krb5-kdc-ldap
# and ldap-utils too; cost about 0.25 s. (The DB2 default refuses every
# S4U2Proxy.)
#
# Needs the Debian packages krb5-kdc, krb5-admin-server (kadmin.local) and
# krb5-user (kinit), and python3 to find a free port. Cost: about 0.1 s.
set -euo pipefail

cmd=${1:?usage: krb_test_kdc.sh up|down DIR}
dir=${2:?usage: krb_test_kdc.sh up|down DIR}
# The system's tools first: a python3 shim on PATH costs 0.1 s per start.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# Stops the process whose PID is in $1. A killed child of a shell that has
# gone stays a zombie until init reaps it: that counts as stopped.
stop_pid_file() {
  [[ -f $1 ]] || return 0
  local pid
  pid=$(<"$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    local state
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    [[ -z $state || $state == Z* ]] && return 0
    sleep 0.02
  done
  kill -9 "$pid" 2>/dev/null || true
}

if [[ $cmd == down ]]; then
  stop_pid_file "$dir/kdc.pid"
  stop_pid_file "$dir/slapd.pid"
  rm -rf -- "$dir"
  exit 0
fi
[[ $cmd == up ]] || { echo "usage: krb_test_kdc.sh up|down DIR" >&2; exit 2; }

realm=${REALM:-COMSEC.TEST}
user=${USER_PRINCIPAL:-alice}
password=${USER_PASSWORD:-pw-$RANDOM$RANDOM$RANDOM}
spns=${SPNS:-"RPCSS/localhost host/localhost"}
extra=${EXTRA_PRINCIPALS:-}
extra_users=${EXTRA_USERS:-}
kdb=${KDB:-db2}
deleg_to=${DELEG_TO:-}
addr=127.0.0.1

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
exec 3>>"$dir/setup.log"
trap 'echo "krb_test_kdc.sh: setup failed at line $LINENO; see $dir/setup.log" >&2' ERR

# A port free for both UDP and TCP on the loopback address. Another
# process may take it before krb5kdc binds; the caller then sees the KDC
# fail to start and may try again.
port=$(python3 - "$addr" <<'EOF'
import socket, sys
addr = sys.argv[1]
for _ in range(100):
    tcp = socket.socket()
    tcp.bind((addr, 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(type=socket.SOCK_DGRAM)
    try:
        udp.bind((addr, port))
    except OSError:
        continue
    finally:
        tcp.close()
        udp.close()
    print(port)
    break
EOF
)

# The client's view. udp_preference_limit = 1: always TCP, which the
# readiness check below also waits for. No DNS: names are taken as given.
cat >"$dir/krb5.conf" <<EOF
[libdefaults]
  default_realm = $realm
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  forwardable = true
  udp_preference_limit = 1
[realms]
  $realm = {
    kdc = $addr:$port
  }
[domain_realm]
  localhost = $realm
[logging]
  kdc = FILE:$dir/kdc.log
EOF

db_config="database_name = $dir/principal"
db_modules=""
if [[ $kdb == ldap ]]; then
  # slapd on a Unix socket of DIR only (the system's slapd, which would
  # listen on every interface, is never used), an mdb database in DIR.
  url="ldapi://${dir//\//%2F}%2Fldapi"
  mkdir -p "$dir/ldapdb"
  zcat /usr/share/doc/krb5-kdc-ldap/kerberos.schema.gz >"$dir/kerberos.schema"
  cat >"$dir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include $dir/kerberos.schema
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=test"
rootdn "cn=admin,dc=test"
rootpw secret
directory $dir/ldapdb
maxsize 104857600
EOF
  slapd -f "$dir/slapd.conf" -h "$url" -d 0 >>"$dir/slapd.log" 2>&1 &
  echo $! >"$dir/slapd.pid"
  ldap=(-x -H "$url" -D cn=admin,dc=test -w secret)
  # The socket file appears before slapd listens on it.
  for _ in $(seq 250); do
    ldapwhoami "${ldap[@]}" >/dev/null 2>&1 && break
    sleep 0.02
  done
  printf 'dn: dc=test\nobjectClass: dcObject\nobjectClass: organization\no: t\ndc: test\n' |
    ldapadd "${ldap[@]}" >&3 2>&1
  db_config="database_module = LDAP"
  db_modules="[dbmodules]
  LDAP = {
    db_library = kldap
    ldap_kerberos_container_dn = cn=krbcontainer,dc=test
    ldap_kdc_dn = cn=admin,dc=test
    ldap_kadmind_dn = cn=admin,dc=test
    ldap_service_password_file = $dir/ldap.stash
    ldap_servers = $url
  }"
fi

# The KDC's view: it listens on the loopback address only.
cat >"$dir/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = $addr:$port
  kdc_tcp_listen = $addr:$port
[realms]
  $realm = {
    $db_config
    key_stash_file = $dir/stash
    acl_file = $dir/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
$db_modules
EOF
: >"$dir/kadm5.acl"

cat >"$dir/env" <<EOF
export KRB5_CONFIG=$dir/krb5.conf
export KRB5_KDC_PROFILE=$dir/kdc.conf
export KRB5CCNAME=FILE:$dir/ccache
export KRB5RCACHEDIR=$dir
export KDC_REALM=$realm KDC_ADDR=$addr KDC_PORT=$port KDC_DIR=$dir
EOF
# shellcheck source=/dev/null
. "$dir/env"

if [[ $kdb == ldap ]]; then
  kdb5_ldap_util "${ldap[@]:1}" create -subtrees dc=test -r "$realm" -s \
    -P "master-$RANDOM$RANDOM$RANDOM" >&3 2>&1
  printf 'secret\nsecret\n' |
    kdb5_ldap_util "${ldap[@]:1}" stashsrvpw -f "$dir/ldap.stash" cn=admin,dc=test >&3 2>&1
else
  kdb5_util create -s -r "$realm" -P "master-$RANDOM$RANDOM$RANDOM" >&3 2>&1
fi
kadmin.local -q "addprinc -pw $password $user" >&3 2>&1
kadmin.local -q "ktadd -k $dir/user.keytab -norandkey $user" >&3 2>&1
for other in $extra_users; do
  kadmin.local -q "addprinc -randkey $other" >&3 2>&1
  kadmin.local -q "ktadd -k $dir/user.keytab $other" >&3 2>&1
done
for spn in $spns; do
  kadmin.local -q "addprinc -randkey +ok_as_delegate $spn" >&3 2>&1
  # ktadd gives the principal new keys each time: the first keytab ends up
  # one version behind the KDC.
  kadmin.local -q "ktadd -k $dir/stale.keytab $spn" >&3 2>&1
  kadmin.local -q "ktadd -k $dir/service.keytab $spn" >&3 2>&1
done
for spn in $extra; do
  kadmin.local -q "addprinc -randkey $spn" >&3 2>&1
done

for pair in $deleg_to; do  # SPN=TARGET (LDAP KDB only)
  printf 'dn: krbPrincipalName=%s@%s,cn=%s,cn=krbcontainer,dc=test\nchangetype: modify\nadd: krbAllowedToDelegateTo\nkrbAllowedToDelegateTo: %s@%s\n' \
    "${pair%%=*}" "$realm" "$realm" "${pair#*=}" "$realm" | ldapmodify "${ldap[@]}" >&3 2>&1
done

krb5kdc -n >>"$dir/kdc.stdout" 2>&1 &
echo $! >"$dir/kdc.pid"
for _ in $(seq 250); do
  (exec 4<>"/dev/tcp/$addr/$port") 2>/dev/null && break
  sleep 0.02
done
kinit -f -k -t "$dir/user.keytab" "$user" >&3 2>&1
echo "$dir/env"
