// Local COM calls over ncalrpc (issue 14, "Cloaking"; the transport half):
// where a process's object exporter listens for callers on the same
// machine, how the OXID advertises that endpoint, which binding a caller
// picks, and whose credentials the kernel records when it connects.
//
// The endpoint. Every ComRuntime listens, besides its TCP endpoints, on a
// Unix socket of its own:
//     <dir>/com-<pid>-<16 random hex digits>
// where <dir> is ComRuntimeOptions::local_endpoint_dir, by default
// DefaultLocalEndpointDir() = /tmp/comsec-<euid>. Why there:
//   * Other local users must be able to connect (whether they may call is
//     the access check's decision, R187, made on the kernel-proven
//     identity), so the directory is searchable by all (0755) and the
//     socket 0666 (rpc/transport/socket.h). $XDG_RUNTIME_DIR (0700) would
//     lock them out; /run/comsec is root's and a non-root server cannot
//     create sockets in it.
//   * Nobody but the process's user (or root) may put a file in the
//     directory: the listener creates it 0755 and refuses one that exists
//     writable by group or others or owned by another user (a squatter:
//     the runtime then serves on TCP only and logs
//     com.local_endpoint_unavailable).
//   * A client trusts the socket to be served by the directory's owner (or
//     root): ClientOptions::trusted_server_uids is the owner of the
//     socket's directory, checked with SO_PEERCRED before a byte is sent
//     (SEC_E_WRONG_PRINCIPAL otherwise). A user cannot impersonate another
//     user's exporter by planting a socket.
//   * The random part keeps two processes (and two machines whose OBJREFs
//     meet) from naming the same path.
//   * The runtime removes its socket file when it stops. A deployment
//     whose services have private /tmp (systemd PrivateTmp=) sets the
//     directory to a shared one.
//
// Advertising. The endpoint is one more string binding of the OXID
// ([MS-DCOM] 2.2.19.3): wTowerId 0x10 (ncalrpc, [MS-RPCE] 2.2.1.1.7's
// protocol identifier), aNetworkAddr the socket's absolute path, listed
// after the TCP bindings. A resolver hands bindings out only for the
// towers a ResolveOxid(2) asks for (ncalrpc falls back to TCP), so
// foreign clients (impacket, Windows), which ask for TCP, see exactly what
// they saw before; an OBJREF's saResAddr (the resolver's bindings) stays
// TCP-only unless it was marshaled for MSHCTX_LOCAL (com/com_runtime.h),
// which names the resolver's ncalrpc endpoint alone. comsec clients ask
// for {ncalrpc, TCP}.
//
// Choosing. A client tries the OXID's ncalrpc bindings first (a socket
// that exists, is in a safe directory and answers on this machine), then
// its TCP bindings (ConnectionCandidates). What authenticates over the
// chosen association is com/cloaking.h's. An ncalrpc binding whose
// address is not an absolute path (a Windows resolver's LRPC port name,
// should one answer for tower 0x10) is skipped.
//
// Connecting as the process. SO_PEERCRED is taken from the credentials
// of the thread that calls connect(), and a thread impersonating its
// caller (security/thread_impersonation.h) runs as that caller. So an
// association meant to present the process (no cloaking) must not be
// connected by an impersonating thread, nor re-connected by one when the
// server closed it idle: ProcessDialer connects such sockets on the
// calling thread only when it runs as the process, else on a thread of
// its own that never impersonates (rpc::ClientOptions::dial). An
// association that presents a cloaked Unix identity is connected by a
// thread running as that identity: the calling thread when it does, else
// the dialer's thread after switching to it for the connect (possible
// only where the process may switch, which is what impersonating at
// IMPERSONATE level needed in the first place).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::com {

// /tmp/comsec-<effective uid>.
std::string DefaultLocalEndpointDir();

// A new endpoint for this process's exporter under `dir`
// ("ncalrpc:[<dir>/com-<pid>-<random>]"). RPC_S_INVALID_STRING_BINDING
// when the path would not fit a Unix socket address or `dir` is not an
// absolute path without '[', ']' or ','.
Result<rpc::StringBinding> NewLocalExporterEndpoint(const std::string& dir);

// The string binding advertising an ncalrpc endpoint (tower 0x10, the
// socket's path).
OxidBindings::String LocalStringBinding(const rpc::StringBinding& endpoint);

// The binding a client reaches an advertised ncalrpc string binding at;
// nullopt for another tower or an address that is not an absolute path
// a string binding can carry.
std::optional<rpc::StringBinding> ReachableLocalBinding(const OxidBindings::String& advertised);

// Who may serve the ncalrpc socket at `path`: the owner of its directory,
// which must be a directory that neither group nor others may write
// (else SEC_E_WRONG_PRINCIPAL: anyone could have put the socket there),
// and root. RPC_S_SERVER_UNAVAILABLE when the directory does not exist
// (the endpoint is not on this machine).
Result<std::vector<uint32_t>> TrustedLocalServerUids(const std::string& path);

// The OXID's bindings in the order a client on this machine tries them:
// ncalrpc ones first, then TCP ones; others are left out.
std::vector<rpc::StringBinding> ConnectionCandidates(const OxidBindings& exporter);

// Connects sockets with chosen credentials (see the file comment).
// Made by the thread that starts the runtime, which must not be
// impersonating then: its thread takes that thread's credentials as the
// process's.
//
// Thread-safety: Dial may be called from any thread; connects that need
// the dialer's thread run there one at a time.
class ProcessDialer {
 public:
  ProcessDialer();
  ~ProcessDialer();
  ProcessDialer(const ProcessDialer&) = delete;
  ProcessDialer& operator=(const ProcessDialer&) = delete;

  // Connects to `binding` as the process (`as_uid` nullopt) or as Unix
  // user `as_uid` (its groups from the system's database). A TCP binding
  // is connected on the calling thread either way (the kernel records no
  // credentials for it). E_ACCESSDENIED when the process may not switch
  // to `as_uid`.
  Result<rpc::Socket> Dial(const rpc::StringBinding& binding, int timeout_ms,
                           std::optional<uint32_t> as_uid) const;
  // A ClientOptions::dial that connects as the process (or as `as_uid`).
  // It keeps the dialer alive.
  static std::function<Result<rpc::Socket>(const rpc::StringBinding&, int)> DialFunction(
      std::shared_ptr<const ProcessDialer> dialer, std::optional<uint32_t> as_uid);

  // The process's effective uid and gid (those of the thread that made
  // the dialer).
  uint32_t process_uid() const { return uid_; }
  uint32_t process_gid() const { return gid_; }
  // True when the calling thread runs with the process's effective uid
  // and gid (it is not impersonating anyone else).
  bool ThreadRunsAsProcess() const;

 private:
  // Runs `job` on the dialer's thread and waits for it.
  void RunOnDialerThread(std::function<void()> job) const;
  void Loop();

  const uint32_t uid_;
  const uint32_t gid_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace comsec::com
