// A test helper that acts as another local user: it drops to UID/GID first
// (while it is still one thread), then
//   insert BINDING UUID ENDPOINT   registers UUID v1.0 over ncacn_ip_tcp at
//                                  port ENDPOINT with the mapper at BINDING
//   delete BINDING UUID ENDPOINT   removes that entry
//   serve BINDING                  listens there with an endpoint mapper (an
//                                  impostor) until SIGTERM
// and prints "hresult 0xXXXXXXXX" (or "listening PID") on stdout. Tests run
// it as nobody to attack what root registered.
#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"

using namespace comsec;
using namespace comsec::rpc;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s UID GID insert|delete|serve BINDING [UUID ENDPOINT]\n",
                 argv[0]);
    return 2;
  }
  const uid_t uid = static_cast<uid_t>(std::atoi(argv[1]));
  const gid_t gid = static_cast<gid_t>(std::atoi(argv[2]));
  if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
      ::setresuid(uid, uid, uid) != 0) {
    std::perror("dropping privileges");
    return 3;
  }
  const std::string op = argv[3];
  auto binding = StringBinding::Parse(argv[4]);
  if (!binding.ok()) return 2;
  if (op == "serve") {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    EndpointMapper mapper;
    InterfaceRegistry registry;
    registry.Register(mapper.Interface());
    Server server(&registry, ServerOptions{});
    auto listening = server.Listen(*binding);
    if (!listening.ok()) {
      std::printf("hresult 0x%08x\n", listening.status().code().value());
      return 1;
    }
    std::printf("listening %d\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    server.Stop();
    return 0;
  }
  if (argc < 7) return 2;
  EndpointEntry e;
  e.tower = {{*Guid::Parse(argv[5]), 1, 0}, Ndr20Syntax(), "ncacn_ip_tcp", argv[6], "127.0.0.1"};
  e.annotation = "run_as_helper";
  Status s = op == "insert" ? EptInsert(*binding, {e}) : EptDelete(*binding, {e});
  std::printf("hresult 0x%08x\n", s.ok() ? 0u : s.code().value());
  return 0;
}
