// A test helper: a process that registers with the OXID resolver, run as
// another user when asked. It drops to UID/GID first (while it is one
// thread; "-" keeps its identity), then
//   register BINDING [PERIOD_MS]  registers an OXID (string binding
//                     ncacn_ip_tcp 127.0.0.1[4242] and ncalrpc, security
//                     binding NTLM), prints "oxid 0x..." and "oid 0x..."
//                     (one OID), then heartbeats every PERIOD_MS (default
//                     500) until its standard input closes
//   unregister BINDING OXID      UnregisterOxid
//   heartbeat BINDING OXID       Heartbeat
//   register-oids BINDING OXID   RegisterOids (1)
// and prints "hresult 0xXXXXXXXX" for the last four. Tests run it as
// nobody to attack an OXID root's process registered, and the impacket
// interop test runs it to have an OXID to resolve.
#include <grp.h>
#include <poll.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "comsec/com/resolver_client.h"

using namespace comsec;

namespace {

int PrintStatus(const Status& s) {
  std::printf("hresult 0x%08x\n", s.code().value());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s UID|- GID|- OP BINDING [ARG]\n", argv[0]);
    return 2;
  }
  if (std::string(argv[1]) != "-") {
    const uid_t uid = static_cast<uid_t>(std::atoi(argv[1]));
    const gid_t gid = static_cast<gid_t>(std::atoi(argv[2]));
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      std::perror("dropping privileges");
      return 3;
    }
  }
  const std::string op = argv[3];
  auto binding = rpc::StringBinding::Parse(argv[4]);
  if (!binding.ok()) return 2;
  auto client = com::ResolverClient::Connect(*binding);
  if (!client.ok()) return PrintStatus(client.status());
  if (op == "register") {
    com::OxidBindings b;
    b.strings.push_back({com::kTowerIdTcp, u"127.0.0.1[4242]"});
    b.strings.push_back({com::kTowerIdNcalrpc, u"[/run/comsec/oxid-helper]"});
    b.security.push_back({com::kAuthnNtlm, com::kAuthzNone, u""});
    const Guid ipid = *Guid::Parse("00001234-0001-0002-0304-050607080910");
    auto oxid = (*client)->RegisterOxid(b, ipid, /*authn_hint=*/2);
    if (!oxid.ok()) return PrintStatus(oxid.status());
    auto oids = (*client)->RegisterOids(*oxid, 1);
    if (!oids.ok()) return PrintStatus(oids.status());
    std::printf("oxid 0x%016" PRIx64 "\noid 0x%016" PRIx64 "\n", *oxid, (*oids)[0]);
    std::fflush(stdout);
    const int period_ms = argc > 5 ? std::atoi(argv[5]) : 500;
    for (;;) {
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (::poll(&p, 1, period_ms) != 0) break;  // stdin closed (or data)
      auto rundown = (*client)->Heartbeat(*oxid, {});
      if (!rundown.ok()) return PrintStatus(rundown.status());
    }
    return PrintStatus((*client)->UnregisterOxid(*oxid));
  }
  if (argc < 6) return 2;
  const uint64_t oxid = std::strtoull(argv[5], nullptr, 0);
  if (op == "unregister") return PrintStatus((*client)->UnregisterOxid(oxid));
  if (op == "heartbeat") return PrintStatus((*client)->Heartbeat(oxid, {}).status());
  if (op == "register-oids") return PrintStatus((*client)->RegisterOids(oxid, 1).status());
  return 2;
}
