// The Service Control Manager's activation: comsecd decides whether a
// client may get an object of a class, launches the class's server as its
// RunAs identity when none is running, and hands back the interfaces the
// client asked for — or refuses, logs why, and says how to change the
// answer. The wire (IRemoteSCMActivator, IActivation) is
// activation/scm_service.h's; this is the decision and the work.
//
// The checks, in R186's order (reference/com-security-rules.md §19–§20),
// are config::Decide's — the function `comcfg explain` runs — so the
// daemon and the tool can never disagree:
//   1. distance: local over ncalrpc, remote over TCP (R117);
//   2. EnableDCOM for remote requests (R120);
//   3. the activation authentication level: DCOM hardening's floor
//      (RequireIntegrityActivationAuthenticationLevel, PKT_INTEGRITY unless
//      weakened explicitly); an unauthenticated request is ANONYMOUS LOGON,
//      which the descriptors must grant by name (§20);
//   4. the caller's token: the identity that authenticated the activation
//      call (a cloaking client presents its thread's identity there, R111);
//   5. MachineLaunchRestriction, then the AppID's LaunchPermission (else
//      DefaultLaunchPermission, else the built-in), needing the launch and
//      activation rights when the server must be started, the activation
//      right when it runs (R115–R118, R186.5);
//   6. the class lookup: REGDB_E_CLASSNOTREG for an unknown CLSID or one
//      with no server this SCM can start — decided after the permission
//      check against the default launch permission, so that a caller who
//      may not launch learns nothing about which classes exist.
// A refusal is E_ACCESSDENIED and one audit event, activation.denied,
// with who, from where, at what level, which check and ACE, the remedy,
// the `comcfg explain` command that reproduces it and Windows's event
// number (10016 for a permission, 10036 for the hardening level), logged
// as ActivationFailureLoggingLevel says (R136: 0 logs unless the client
// passed CLSCTX_NO_FAILURE_LOG, 1 always, 2 never; a machine-restriction
// refusal counts 0 as 1).
//
// Launching (R127–R131): LocalServer32's command line, split into words
// without a shell (activation/command_line.h), or the InprocServer32
// library in a surrogate host when the AppID has DllSurrogate; run as the
// RunAs identity (activation/run_as.h) with a clean environment holding
// COMSEC_RESOLVER (this SCM's ncalrpc endpoint) and COMSEC_STORE; the
// server registers its class objects (com/running_classes.h); the SCM
// waits for that registration (launch_timeout, then
// CO_E_SERVER_EXEC_FAILURE; a server that exits first fails at once).
// A server that registered with REGCLS_SINGLEUSE serves one activation.
// An As-Activator server serves only its own user's activations; one
// launched for another identity is never handed out across identities.
//
// Thread-safety: Activate may be called from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "comsec/activation/activation_properties.h"
#include "comsec/activation/clsctx.h"
#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/com/running_classes.h"
#include "comsec/config/explain.h"
#include "comsec/config/policy_cache.h"
#include "comsec/config/store.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/interface.h"

namespace comsec::activation {

class LaunchedProcess;
struct ClassRegistrationInfo;
struct LaunchIdentity;

struct ScmOptions {
  // The machine's registry; "" reads an empty in-memory one (built-in
  // defaults: nothing is registered, nothing launches).
  std::string store_path;
  // The machine's OXID resolver and class table (comsecd's). Required.
  com::OxidResolver* resolver = nullptr;
  com::RunningClassTable* classes = nullptr;
  // This SCM's ncalrpc endpoint, handed to launched servers as
  // COMSEC_RESOLVER so they register there.
  std::string resolver_binding;
  // Who "nt authority\localservice" runs as (R128).
  std::string service_user = "daemon";
  // logind's session files, for RunAs "Interactive User".
  std::string sessions_dir = "/run/systemd/sessions";
  // The surrogate host for DllSurrogate classes (comsec-surrogate).
  std::string surrogate_path;
  // How long a launched server has to register its class object.
  std::chrono::milliseconds launch_timeout = std::chrono::seconds(30);
  // Where launched servers' standard output and error go (-1: /dev/null).
  int server_log_fd = -1;
  const Logger* logger = nullptr;  // operational events
  const Logger* audit = nullptr;   // the audit trail (may be the same)
};

// One activation request as the wire decoded it.
struct ActivationRequest {
  Guid clsid;
  bool class_object = false;  // RemoteGetClassObject / Mode 0xFFFFFFFF
  std::vector<Guid> iids;     // at least one
  uint32_t clsctx = 0;
  // Persistent activation (a file or storage name): E_NOTIMPL.
  bool persistent = false;
  // The call that carried it: distance, level, token, peer.
  const rpc::CallContext* call = nullptr;
  // The towers the client can use (TCP for remote clients).
  std::vector<uint16_t> protseqs;
  // MSHCTX of the OBJREFs handed back.
  uint32_t dest_context = MSHCTX_DIFFERENTMACHINE;
};

struct ActivationReply {
  HResult hr = S_OK;
  ActivationPropertiesOut out;  // filled when hr succeeded
};

class Scm {
 public:
  static Result<std::unique_ptr<Scm>> Create(ScmOptions options);
  ~Scm();
  Scm(const Scm&) = delete;
  Scm& operator=(const Scm&) = delete;

  ActivationReply Activate(const ActivationRequest& request);

  // Whether process `pid` running as `uid` is a server this SCM launched
  // (and still runs): comsecd's logon service trusts those.
  bool Launched(uint32_t pid, uint32_t uid);

 private:
  explicit Scm(ScmOptions options);
  HResult Refuse(const ActivationRequest& request, const config::EffectivePolicy& policy,
                 const config::Decision& decision, const config::AccessRequest& asked);
  // To the log and, when it is another, the audit trail.
  void Emit(const LogEvent& e) const;
  // The registration's OXID is still its process's (not run down, not gone).
  bool Live(const com::ClassRegistration& e) const;
  void LogFailure(const ActivationRequest& request, const std::string& event, HResult hr,
                  const std::string& message);
  // Starts the class's server as `identity` and waits for its class
  // object's registration, which it returns (taken, if single-use).
  Result<com::ClassRegistration> LaunchServer(const ActivationRequest& request,
                                              const ClassRegistrationInfo& info,
                                              const LaunchIdentity& identity);
  Result<com::ClassRegistration> FindRunning(const Guid& clsid, std::optional<uint32_t> pid,
                                             std::optional<uint32_t> owner_uid);
  ActivationReply ActivateIn(const ActivationRequest& request, const com::ClassRegistration& at);
  Result<std::shared_ptr<rpc::Client>> ClientFor(const com::ClassRegistration& at);
  void Reap();

  ScmOptions options_;
  std::unique_ptr<config::Store> store_;
  // The account database (for RunAs and As-Activator store accounts);
  // null when the daemon has none or may not read it.
  std::unique_ptr<config::Store> secrets_;
  std::mutex policy_mu_;
  std::unique_ptr<config::PolicyCache> policies_;
  std::mutex launch_mu_;  // one launch of a class at a time
  std::mutex mu_;
  struct LaunchedServer {
    std::unique_ptr<LaunchedProcess> process;
    uint32_t uid = 0;
  };
  std::map<uint32_t, LaunchedServer> launched_;  // by pid
  std::map<uint64_t, std::shared_ptr<rpc::Client>> clients_;       // by OXID
};

}  // namespace comsec::activation
