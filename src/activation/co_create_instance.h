// The client's activation API (issue 15): CoCreateInstanceEx,
// CoGetClassObject and CoGetInstanceFromFile, Windows-shaped, over a
// process's com::ComRuntime. Rules R121-R126 of com-security-rules.md,
// [MS-DCOM] 3.2.4.1.1, conformance case 39.
//
//   MULTI_QI qi[] = {{IID_IFoo}, {IID_IBar}};
//   COSERVERINFO server{"build-02"};        // TCP, port 135
//   HResult hr = CoCreateInstanceEx(rt, CLSID_Foo, nullptr,
//                                   CLSCTX_REMOTE_SERVER, &server, qi);
//   // S_OK, CO_S_NOTALLINTERFACES (qi[i].hr), or the failure
//
// Where the activation runs (R125). CLSCTX_REMOTE_SERVER is added when
// COSERVERINFO names another machine and removed when it names this one
// ("localhost", "127.0.0.1", "::1", ".", this host's name or its first
// label, in any case; "\\name" counts as "name"). Names are compared,
// not routes: 127.0.0.2 is another machine's name here, and reaches this
// machine's SCM over TCP like any remote one. Then, in order:
//   1. CLSCTX_INPROC_SERVER: a class object this process registered for it
//      (ComRuntime::classes(), CoRegisterClassObject); comsec loads no
//      in-process servers, so a class not registered is not found here;
//   2. CLSCTX_INPROC_HANDLER: comsec has no handlers (skipped);
//   3. CLSCTX_LOCAL_SERVER, or CLSCTX_REMOTE_SERVER without a COSERVERINFO
//      naming another machine: comsecd's SCM over ncalrpc
//      (ActivationClientOptions::local_scm), which decides (RemoteServerName
//      forwarding is its business);
//   4. CLSCTX_REMOTE_SERVER: the SCM of the machine COSERVERINFO names, over
//      TCP to name[scm_port]. A name may carry its own port, "host[1350]",
//      as a string binding's endpoint does.
// A step that does not know the class (REGDB_E_CLASSNOTREG) passes to the
// next; any other failure is the answer. None applies: REGDB_E_CLASSNOTREG.
//
// Refused before anything is tried: an empty MULTI_QI array, or
// CLSCTX_ACTIVATE_32_BIT_SERVER with _64_BIT_SERVER, or no server context
// at all (E_INVALIDARG); an outer unknown (aggregation) for any server
// outside this process, CLASS_E_NOAGGREGATION (comsec's class objects are
// never aggregated either: com/class_factory.h).
//
// Results. In-process: the class object's IClassFactory::CreateInstance
// for IUnknown, then QueryInterface for each IID. Through an SCM: its
// per-interface answers, each OBJREF unmarshaled with
// ComRuntime::UnmarshalInterface (which resolves the OXID through the
// resolver the OBJREF names; the bindings ScmReplyInfo carries are not
// used, the runtime having no way to take them). MULTI_QI::hr is each
// interface's HRESULT and itf its pointer; the call returns S_OK when all
// succeeded, CO_S_NOTALLINTERFACES when some did, else the first failure
// (E_NOINTERFACE when the object has none of them). An activation that
// failed as a whole sets every hr to its HRESULT: the SCM's answer
// (E_ACCESSDENIED when it refused the caller, fault 5 included), or the
// RPC runtime's (RPC_S_SERVER_UNAVAILABLE when nothing answers).
//
// The activation call's security is activation/activation_auth.h's: the
// COAUTHINFO, else the process's blanket, raised to PKT_INTEGRITY.
//
// Thread-safety: every function may be called from any thread; each
// activation makes its own association to the SCM.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "comsec/activation/activation_auth.h"
#include "comsec/activation/clsctx.h"
#include "comsec/base/guid.h"
#include "comsec/base/hresult.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"
#include "comsec/com/com_runtime.h"

namespace comsec::activation {

// COSERVERINFO (objidlbase.h, R121): the machine, empty for this one; the
// activation's security, null for the process's.
struct COSERVERINFO {
  std::string name;
  const COAUTHINFO* auth_info = nullptr;
};

// MULTI_QI: one interface asked for, and what came back.
struct MULTI_QI {
  Guid iid;
  ComPtr<IUnknown> itf;
  HResult hr = S_OK;
};

struct ActivationClientOptions {
  // The remote SCM's TCP port when the name carries none (Windows: 135).
  uint16_t scm_port = 135;
  // comsecd's SCM: its ncalrpc endpoint (ncalrpc:[epmapper] is
  // /run/comsec/epmapper, where comsecd listens by default).
  std::string local_scm = "ncalrpc:[epmapper]";
  // activation.level_raised (notice) when RaiseActivationAuthenticationLevel
  // changed the level, activation.failed (warning) when an SCM refused.
  // Null: none.
  const Logger* logger = nullptr;
};

// CoCreateInstanceEx: a new object of class `clsid`, as each interface of
// `results`. See the file comment.
HResult CoCreateInstanceEx(com::ComRuntime& rt, const Guid& clsid,
                           IUnknown* outer, uint32_t clsctx,
                           const COSERVERINFO* server,
                           std::span<MULTI_QI> results,
                           const ActivationClientOptions& opts = {});
// The same, with the reason of a failure: the success HRESULT (S_OK or
// CO_S_NOTALLINTERFACES), or a Status whose code CoCreateInstanceEx returns.
Result<HResult> CreateInstanceEx(com::ComRuntime& rt, const Guid& clsid,
                                 IUnknown* outer, uint32_t clsctx,
                                 const COSERVERINFO* server,
                                 std::span<MULTI_QI> results,
                                 const ActivationClientOptions& opts = {});

// CoGetClassObject: the class object of `clsid` as interface `iid`, from
// this process's registrations or an SCM's RemoteGetClassObject. Errors as
// CoCreateInstanceEx's; an interface the class object lacks is its
// HRESULT (E_NOINTERFACE).
Result<ComPtr<IUnknown>> CoGetClassObject(
    com::ComRuntime& rt, const Guid& clsid, uint32_t clsctx,
    const COSERVERINFO* server, const Guid& iid,
    const ActivationClientOptions& opts = {});

// CoGetInstanceFromFile: persistent activation (InstanceInfo, [MS-DCOM]
// 2.2.22.2.3) is not supported; always E_NOTIMPL, every result's hr too.
Status CoGetInstanceFromFile(com::ComRuntime& rt, const COSERVERINFO* server,
                             const Guid* clsid, IUnknown* outer,
                             uint32_t clsctx, uint32_t mode,
                             std::u16string_view name,
                             std::span<MULTI_QI> results);

// The machine a COSERVERINFO name names: the host and the SCM's port.
struct ScmServerName {
  std::string host;
  uint16_t port = 135;
  // The name carried "[port]": that SCM over TCP is meant, even on this
  // machine (a comsecd on a port of its own, as tests and demos run it).
  bool explicit_port = false;
};
// "host", "\\host", "host[port]"; E_INVALIDARG for an empty host or a port
// outside 1-65535.
Result<ScmServerName> ParseServerName(std::string_view name,
                                      uint16_t default_port);
// Whether `host` names this machine (the file comment's list).
bool NamesThisMachine(std::string_view host);

}  // namespace comsec::activation
