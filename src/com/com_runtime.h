// The COM runtime of one process (issue 13): where CoMarshalInterface,
// CoUnmarshalInterface, CoReleaseMarshalData and CoDisconnectObject live,
// over one object exporter (com/object_exporter.h) serving this process's
// objects on its own endpoints, the proxy managers of the objects it holds
// elsewhere (com/remote_object.h) and the pinging that keeps both alive.
//
//   ComRuntimeOptions options;                    // TCP on loopback, own resolver
//   auto com = ComRuntime::Start(options);
//   (*com)->RegisterInterface(idl::IComsecHelloInfo());
//   auto objref = (*com)->MarshalInterface(idl::IID_IComsecHello, hello->unknown());
//   ... another process:
//   auto hello = (*com)->Unmarshal<idl::IComsecHello>(objref);   // a proxy
//
// The OXID resolver: comsecd's when `resolver` names its ncalrpc endpoint
// (the OXID and OIDs registered there, OBJREFs pointing at comsecd's
// bindings, heartbeats to it); otherwise one inside this process that
// serves IObjectExporter for its own OXID on its own endpoints, so a
// process serves objects without comsecd (the hello example does).
//
// MSHLFLAGS: normal marshaling gives the OBJREF 5 public references
// (Windows's count); TABLESTRONG keeps the object exported until
// ReleaseMarshalData, each unmarshal getting references of its own;
// TABLEWEAK does not hold it: the object stays exported until the last
// references its clients took go (after they had some), an external lock
// it had is released, or ReleaseMarshalData.
//
// Outgoing calls: each proxy's blanket (com/client_security.h), negotiated
// from `client_auth` and the server's security bindings when the OXID is
// resolved, and changed per interface proxy with IClientSecurity /
// CoSetProxyBlanket. Incoming calls run on the MTA's threads.
//
// Local calls: the exporter also listens on an ncalrpc socket of its own
// and advertises it; a process on the same machine calls over it,
// authenticated by the kernel (the local package), and cloaked calls
// present the impersonated caller there (com/local_transport.h,
// com/cloaking.h). The exporter offers the local package when
// `server.packages` is null; a registry given there should include it
// (runtime::Runtime's does).
//
// Thread-safety: every method may be called from any thread; all proxies
// and objects it hands out must be released before it is destroyed (what
// is still held then is disconnected: references given back, calls
// failing).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/base/unknown.h"
#include "comsec/com/call_access.h"
#include "comsec/com/class_table.h"
#include "comsec/com/local_transport.h"
#include "comsec/com/object_exporter.h"
#include "comsec/com/objref.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/com/ping_client.h"
#include "comsec/com/process_security.h"
#include "comsec/com/remote_object.h"
#include "comsec/com/resolver_link.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec::com {

enum class MarshalFlags { kNormal = 0, kTableStrong = 1, kTableWeak = 2 };  // MSHLFLAGS_*

// MSHCTX: where an OBJREF is to be unmarshaled (CoMarshalInterface's
// dwDestContext), and what comsec's standard marshaler does for each:
//   MSHCTX_LOCAL, MSHCTX_NOSHAREDMEM: another process on this machine. The
//     OBJREF's resolver bindings (saResAddr) name the resolver's ncalrpc
//     endpoint only (this exporter's own socket with the process's own
//     resolver, comsecd's when the runtime uses comsecd's): the unmarshaler
//     resolves and pings over the local socket, and the OBJREF carries no
//     network address. Without a local endpoint (listen_local off, or it
//     could not be created; a TCP resolver) the TCP bindings are used, as
//     for DIFFERENTMACHINE. comsec shares no memory between processes, so
//     NOSHAREDMEM is LOCAL.
//   MSHCTX_DIFFERENTMACHINE: another machine (the default, and all the
//     runtime did before the parameter existed): the TCP bindings.
//   MSHCTX_INPROC: another apartment of this process, and
//   MSHCTX_CROSSCTX: another context of this apartment (comsec has one
//     context per apartment, so it is the same process): marshaled, as
//     Windows does (CoMarshalInterThreadInterfaceInStream depends on it),
//     with no string bindings at all, because the unmarshal happens in this
//     process, which needs none. Unmarshaled here, an OBJREF of this
//     process's exporter gives the object itself (not a cross-apartment
//     proxy: see UnmarshalInterface); taken to another process that does
//     not already know the OXID it cannot be resolved
//     (RPC_S_SERVER_UNAVAILABLE).
// Any other value (MSHCTX_CONTAINER = 5 included: comsec has no app
// containers) is E_INVALIDARG. A proxy marshaled again always names its
// object's own exporter with the bindings its OBJREF came with, whatever
// the context.
inline constexpr uint32_t MSHCTX_LOCAL = 0;
inline constexpr uint32_t MSHCTX_NOSHAREDMEM = 1;
inline constexpr uint32_t MSHCTX_DIFFERENTMACHINE = 2;
inline constexpr uint32_t MSHCTX_INPROC = 3;
inline constexpr uint32_t MSHCTX_CROSSCTX = 4;

struct ComRuntimeOptions {
  // Where this process's exporter listens (ncacn_ip_tcp, ncalrpc).
  std::vector<std::string> listen = {"ncacn_ip_tcp:127.0.0.1[0]"};
  // comsecd's resolver ("ncalrpc:[/run/comsec/comsecd]"); empty: a
  // resolver of the process's own.
  std::string resolver;
  // The own resolver's ping period ([MS-DCOM]: 120 s); tests shorten it.
  std::chrono::milliseconds ping_period = std::chrono::seconds(120);
  // How often this process pings the objects it holds; at most the
  // servers' ping period.
  std::chrono::milliseconds ping_interval = std::chrono::seconds(120);
  // The multithreaded apartment's threads.
  size_t mta_threads = 4;
  // The exporter's server: packages offered, limits.
  rpc::ServerOptions server;
  // Advertised in the OXID's security bindings (authentication services
  // the exporter accepts).
  std::vector<OxidBindings::Security> security_bindings;
  // Where the process's security comes from when it does not call
  // InitializeSecurity (CoInitializeSecurity) before its first marshal or
  // unmarshal (R59, R73): the policy store ("" for none: the built-in
  // defaults, CONNECT and an access permission of SELF, SYSTEM and
  // Administrators) and the process's AppID (nil: the machine defaults).
  // The store is also where the access check reads MachineAccessRestriction
  // and, for the registry forms, the access permission, following changes
  // without a restart (com/call_access.h).
  std::string store;
  Guid appid;
  // The RPC_C_AUTHN_LEVEL_* hint the resolver hands to clients.
  uint32_t authn_hint = 1;
  // Outgoing calls' blanket, the client half of each proxy's default
  // blanket (R75); none: unauthenticated (level NONE) over TCP, the local
  // package at CONNECT over ncalrpc (com/cloaking.h).
  std::optional<rpc::ClientAuth> client_auth;
  // More packages outgoing calls may use when a proxy's blanket names
  // their service (SetBlanket); client_auth's package comes first.
  std::vector<rpc::SecurityPackage*> client_packages;
  // The process's CIS capabilities (EOAC_*), added to what
  // InitializeSecurity sets: what a proxy's default blanket and
  // EOAC_DEFAULT carry (R47); EOAC_STATIC_CLOAKING (0x20) and
  // EOAC_DYNAMIC_CLOAKING (0x40) choose the identity calls present
  // (com/cloaking.h).
  uint32_t capabilities = 0;
  // Secure references (reference tracking, R145): CoInitializeSecurity's
  // EOAC_SECURE_REFS, or for a process that does not call it the machine's
  // LegacySecureReferences = "Y"/"y" (R73). On: every reference this
  // process adopts from an OBJREF becomes a private reference counted for
  // its own identity (RemAddRef of private references, then RemRelease of
  // the OBJREF's public ones), so another client cannot release it
  // (case 45); it costs two more IRemUnknown calls per interface adopted.
  // R48: needs `client_auth` with a level above NONE, else Start fails
  // with E_INVALIDARG. Off (the default, Windows's): public references.
  bool secure_references = false;
  // Also listen on an ncalrpc endpoint of this process's own, advertised
  // in the OXID's bindings, which local callers prefer
  // (com/local_transport.h). When it cannot be created the runtime serves
  // on TCP only and logs com.local_endpoint_unavailable.
  bool listen_local = true;
  // Its directory; empty: DefaultLocalEndpointDir() (/tmp/comsec-<euid>).
  std::string local_endpoint_dir;
  rpc::ClientOptions client;
  const Logger* logger = nullptr;
};

class ComRuntime final : private ProxyHost {
 public:
  static Result<std::unique_ptr<ComRuntime>> Start(ComRuntimeOptions options);
  ~ComRuntime() override;
  ComRuntime(const ComRuntime&) = delete;
  ComRuntime& operator=(const ComRuntime&) = delete;

  // An interface whose proxies and stubs this process can make (comidl's
  // IFooInfo()); IRemUnknown's are built in.
  void RegisterInterface(const rpc::ObjectInterfaceInfo& info);

  // CoMarshalInterface: `object`'s OBJREF for interface `iid`, for
  // `dest_context` (MSHCTX_*, above; the default, DIFFERENTMACHINE, also
  // serves local processes). A proxy is marshaled as a reference to its
  // object's own exporter: normally with references this process asks the
  // exporter for; table-strong (TABLESTRONG) with none, this process
  // keeping its proxy — and so the object — alive until
  // ReleaseMarshalData, each unmarshal asking the exporter for references
  // of its own; table-weak with none and no hold, so that once this
  // process's proxy goes an unmarshal fails with CO_E_OBJNOTREG. (Windows
  // NT's standard marshaler does the same; Wine's ole32 tests
  // test_proxy_marshal_and_unmarshal_strong/_weak pin it.)
  // E_NOINTERFACE when the object lacks `iid` or no proxy/stub is
  // registered for it; E_INVALIDARG for a null object or an unknown
  // context.
  Result<std::vector<uint8_t>> MarshalInterface(const Guid& iid, IUnknown* object,
                                                MarshalFlags flags = MarshalFlags::kNormal,
                                                uint32_t dest_context = MSHCTX_DIFFERENTMACHINE);
  // CoGetMarshalSizeMax: the size of the OBJREF MarshalInterface would
  // write for these arguments (exact: a standard OBJREF's size depends
  // only on its bindings). Fails as MarshalInterface does.
  Result<uint32_t> GetMarshalSizeMax(const Guid& iid, IUnknown* object,
                                     MarshalFlags flags = MarshalFlags::kNormal,
                                     uint32_t dest_context = MSHCTX_DIFFERENTMACHINE);
  // CoUnmarshalInterface: the object an OBJREF names as interface `iid`
  // (QueryInterface's result, as its IUnknown base): the object itself when
  // it lives in this process, else a proxy (one proxy manager per object).
  // RPC_E_INVALID_OBJREF for malformed bytes, REGDB_E_CLASSNOTREG for a
  // custom OBJREF (no custom unmarshalers), CO_E_OBJNOTCONNECTED for an
  // object of this process no longer exported, the resolver's
  // OR_INVALID_OXID for an exporter that is gone.
  Result<ComPtr<IUnknown>> UnmarshalInterface(std::span<const uint8_t> objref, const Guid& iid);
  template <class T>
  Result<ComPtr<T>> Unmarshal(std::span<const uint8_t> objref) {
    COMSEC_ASSIGN_OR_RETURN(ComPtr<IUnknown> p, UnmarshalInterface(objref, T::kIid));
    return ComPtr<T>::Adopt(static_cast<T*>(p.Detach()));
  }
  // CoReleaseMarshalData: the references an OBJREF holds, given back
  // unused (to this process's exporter, or with RemRelease to another); for
  // a table-strong OBJREF this process made of a proxy, one hold on the
  // proxy goes. An OBJREF of another exporter that carries no references
  // and no hold of this process (table data made elsewhere) releases
  // nothing: S_OK.
  Status ReleaseMarshalData(std::span<const uint8_t> objref);
  // CoDisconnectObject.
  void DisconnectObject(IUnknown* object) { exporter_->Disconnect(object); }
  // CoLockObjectExternal: while an object is locked (each lock counted) the
  // runtime holds a reference to it, so it stays alive whatever its remote
  // clients release or stop pinging, as a server keeps an object it
  // registered somewhere; the last unlock lets it go, and with
  // `last_unlock_releases` also disconnects it when no client holds
  // references to it (its exported interfaces all at zero). Unlocking an
  // object that is not locked is E_UNEXPECTED; a null one E_INVALIDARG.
  Status LockObjectExternal(IUnknown* object, bool lock, bool last_unlock_releases = true);

  // CoInitializeSecurity (com/process_security.h): S_OK; E_INVALIDARG and
  // RPC_E_NO_GOOD_SECURITY_PACKAGES for arguments it refuses (R60);
  // RPC_E_TOO_LATE once the process's security is set, by an earlier call
  // or implicitly by the first marshal or unmarshal (R59);
  // CO_E_SERVER_EXEC_FAILURE when the registry makes the process fail
  // (R163).
  Status InitializeSecurity(CoInitializeSecurityParams params);
  // The process's security in force, initializing it implicitly from the
  // registry if nothing did yet (R73).
  Result<std::shared_ptr<const ProcessSecuritySettings>> SecuritySettings();
  // CoQueryAuthenticationServices (R40): the packages the process's
  // security registered, explicit or implicit; none before it is set.
  std::vector<SoleAuthenticationService> QueryAuthenticationServices();
  // The client half of the process's security, as every outgoing call
  // starts from it (R75): client_auth as CoInitializeSecurity adjusted it
  // (R58), client_packages, the capabilities and secure references;
  // initializing the process's security implicitly if nothing did (R59).
  // Activation (activation/co_create_instance.h) authenticates its calls to
  // an SCM from it.
  Result<ClientProcessSecurity> ClientSecurity();
  // The rpc::ClientOptions to reach `at` with: ComRuntimeOptions::client,
  // and for ncalrpc the servers the socket's directory vouches for,
  // connected as the process (com/local_transport.h).
  Result<rpc::ClientOptions> ClientOptionsFor(const rpc::StringBinding& at) const;
  // The per-call access check (R187), for tests and explanations.
  CallAccessGate& access_gate() { return *gate_; }

  // The hook generated code uses for interface pointers passed as
  // parameters: marshals and unmarshals through this runtime.
  rpc::InterfaceMarshaler* marshaler() override { return &marshaler_; }

  // CoRegisterClassObject, CoRevokeClassObject, CoResumeClassObjects and
  // the lookups (com/class_table.h). Registering through classes() keeps
  // the class object inside this process.
  ClassTable& classes() { return classes_; }
  // CoRegisterClassObject as a server does it: the class table's, and for
  // CLSCTX_LOCAL_SERVER (unless REGCLS_SUSPENDED) the class is offered to
  // the machine's SCM (comsecd, when it is the resolver), which activates
  // it through this process's IComsecServerActivator. A refusal by the SCM
  // fails the registration, which is then not kept.
  Result<uint32_t> RegisterClassObject(const Guid& clsid, IUnknown* class_object, uint32_t clsctx,
                                       uint32_t regcls);
  Status RevokeClassObject(uint32_t cookie);
  // CoResumeClassObjects: the suspended registrations are offered now.
  Status ResumeClassObjects();

  ObjectExporter& exporter() { return *exporter_; }
  uint64_t oxid() const { return exporter_->oxid(); }
  // What this process's OBJREFs carry as saResAddr (MSHCTX_DIFFERENTMACHINE).
  const OxidBindings& resolver_bindings() const { return resolver_bindings_; }
  // ...and for `dest_context` (MSHCTX_*); E_INVALIDARG for an unknown one.
  Result<OxidBindings> ResolverBindingsFor(uint32_t dest_context) const;
  // Table-strong holds on proxies (MarshalInterface of a proxy with
  // TABLESTRONG not yet released), for tests.
  size_t proxy_table_holds() const;
  // The exporter's endpoints as listened.
  const std::vector<rpc::StringBinding>& endpoints() const { return endpoints_; }
  // Objects held elsewhere (proxy managers alive), for tests.
  size_t remote_objects() const;
  // One ping round and one heartbeat now (tests).
  void PingNow() { pinger_->PingNow(); }
  void HeartbeatNow();
  // The own resolver (null with comsecd's), for tests.
  OxidResolver* own_resolver() { return own_resolver_.get(); }

 private:
  class Marshaler final : public rpc::InterfaceMarshaler {
   public:
    explicit Marshaler(ComRuntime* runtime) : runtime_(runtime) {}
    Result<std::vector<uint8_t>> Marshal(const Guid& iid, IUnknown* object) override {
      return runtime_->MarshalInterface(iid, object);
    }
    Result<ComPtr<IUnknown>> Unmarshal(const Guid& iid,
                                       std::span<const uint8_t> objref) override {
      return runtime_->UnmarshalInterface(objref, iid);
    }

   private:
    ComRuntime* const runtime_;
  };

  explicit ComRuntime(ComRuntimeOptions options);
  Status Init();
  // Listens on this process's ncalrpc endpoint and adds it to the OXID's
  // bindings; logs and goes on without it when it cannot.
  void ListenLocal(OxidBindings& exporter_bindings);
  // ProxyHost
  const rpc::ObjectInterfaceInfo* ProxyInfo(const Guid& iid) override;
  void Forget(RemoteObject* object) override;
  // On when the options ask for it, or the process's security says so:
  // CoInitializeSecurity's EOAC_SECURE_REFS, or without it
  // LegacySecureReferences (R145).
  bool secure_references() const override;

  // The proxy manager of (oxid, oid), made (and the OXID resolved) if new.
  Result<ComPtr<RemoteObject>> RemoteFor(const Objref& objref);
  // MarshalInterface of a proxy (`remote`, the object's proxy manager).
  Result<std::vector<uint8_t>> MarshalProxy(const Guid& iid, RemoteObject& remote,
                                            MarshalFlags flags);
  // ClientSecurity() once the process's security is set.
  ClientProcessSecurity ProcessClientSecurity() const;
  Result<std::shared_ptr<RemoteOxid>> ResolveOxid(uint64_t oxid, const OxidBindings& resolver);
  void HeartbeatLoop();

  // Initializes the process's security implicitly when nothing did (the
  // first marshal or unmarshal, R59).
  Status EnsureSecurity();
  // The client half of an explicit CoInitializeSecurity on the process's
  // blanket: its levels and pAuthList's identity for the blanket's package.
  void ApplyCoInitializeSecurityToClient(std::optional<rpc::ClientAuth>& auth) const;
  std::vector<uint32_t> AvailableAuthnServices() const;

  ComRuntimeOptions options_;
  Marshaler marshaler_{this};
  std::unique_ptr<CallAccessGate> gate_;
  mutable std::mutex security_mu_;
  std::shared_ptr<const ProcessSecuritySettings> security_;  // set once
  rpc::InterfaceRegistry registry_;
  ClassTable classes_;
  struct ScmOffer {
    Guid clsid;
    uint32_t regcls = 0;
    uint32_t scm_cookie = 0;  // 0 while suspended
  };
  std::mutex offers_mu_;
  std::map<uint32_t, ScmOffer> offers_;  // by the class table's cookie
  std::unique_ptr<OxidResolver> own_resolver_;
  std::unique_ptr<ResolverLink> link_;
  std::unique_ptr<ObjectExporter> exporter_;
  std::atomic<ObjectExporter*> serving_{nullptr};
  std::unique_ptr<rpc::Server> server_;
  std::vector<rpc::StringBinding> endpoints_;
  OxidBindings resolver_bindings_;
  // The resolver's ncalrpc binding for MSHCTX_LOCAL OBJREFs (with the
  // security bindings); no strings when there is none.
  OxidBindings local_resolver_bindings_;
  std::unique_ptr<PingClient> pinger_;
  // Local calls: the client side's package and dialer, the server's
  // registry when none was given, and the socket file to remove.
  auth::LocalPackage local_package_;
  rpc::SecurityPackageRegistry local_registry_;
  std::shared_ptr<const ProcessDialer> dialer_;
  std::string local_socket_path_;

  mutable std::mutex mu_;
  std::map<Guid, const rpc::ObjectInterfaceInfo*> interfaces_;
  std::map<uint64_t, std::weak_ptr<RemoteOxid>> oxids_;
  struct ExternalLock {
    ComPtr<IUnknown> object;
    uint32_t count = 0;
  };
  std::map<IUnknown*, ExternalLock> external_locks_;  // by identity
  std::map<std::pair<uint64_t, uint64_t>, RemoteObject*> remotes_;  // (oxid, oid)
  // Table-strong OBJREFs of proxies: the proxy each keeps, by the
  // (OXID, IPID) the OBJREF names, and how many such OBJREFs are out.
  struct ProxyTableHold {
    ComPtr<IUnknown> proxy;
    uint32_t count = 0;
  };
  std::map<std::pair<uint64_t, Guid>, ProxyTableHold> proxy_tables_;

  std::mutex heartbeat_mu_;
  std::condition_variable heartbeat_cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

}  // namespace comsec::com
