// The client's activation API (activation/co_create_instance.h): argument
// and CLSCTX checks, COSERVERINFO names, the in-process path through
// ComRuntime::classes(), and activations through an SCM: an in-test
// IRemoteSCMActivator (served by the stub comidl generates from
// idl/ms-dcom/iremotescmactivator.idl) that records what arrived — the
// level the call proved, the decoded activation properties — and answers
// with OBJREFs a real server runtime marshaled, which the client then
// calls. The SCM listens on ncalrpc (comsecd's place, the local package)
// and on TCP at 127.0.0.2, which names no machine as far as the client
// can tell (names are compared, not routes) and so is a remote SCM
// reached with NTLM as a store account (alice).
#include "comsec/activation/co_create_instance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "../com/com_test_support.h"
#include "../rpc/local_test_support.h"
#include "comsec/activation/activation_properties.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/com_object.h"
#include "comsec/base/log_sinks.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/com_runtime.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/current_call.h"
#include "comsec/rpc/server.h"
#include "comsec/runtime/runtime.h"
#include "iremotescmactivator.h"
#include "iremunknown.h"  // IClassFactory, comidl's bundled unknwn.idl

namespace comsec::activation {
namespace {

using security::AuthnLevel;

constexpr char kPassword[] = "Activate#Pass1";
const Guid kClsid{0x5ca1ab1eu,
                  0x0015,
                  0x4c0e,
                  {0x9a, 0x11, 0xac, 0x71, 0x0a, 0x7e, 0x00, 0x01}};
const Guid kMissing{0x5ca1ab1eu,
                    0x0015,
                    0x4c0e,
                    {0x9a, 0x11, 0xac, 0x71, 0x0a, 0x7e, 0x00, 0xff}};

// ==== In-process objects =====================================================

class IThing : public IUnknown {
 public:
  static constexpr Guid kIid{
      0x5ca1ab1eu, 0x0015, 0x4c0e, {0x9a, 0x11, 0xac, 0x71, 0x0a, 0x7e, 0, 2}};
  using BaseInterface = IUnknown;
};
class Thing final : public ComObject<IThing> {};

// A class object of this process and of the server runtime alike: it makes
// Things and counts LockServer calls.
class Factory final : public ComObject<idl::IClassFactory> {
 public:
  Result<idl::HRESULT> RemoteCreateInstance(const idl::IID& iid,
                                            ComPtr<IUnknown>& object) override {
    ComPtr<Thing> thing = MakeComObject<Thing>();
    void* p = nullptr;
    HResult hr = thing->unknown()->QueryInterface(iid, &p);
    if (hr.Succeeded())
      object = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(p));
    return static_cast<idl::HRESULT>(hr.value());
  }
  Result<idl::HRESULT> RemoteLockServer(idl::BOOL lock) override {
    locks_ += lock ? 1 : -1;
    return 0;
  }
  int locks() const { return locks_.load(); }

 private:
  std::atomic<int> locks_{0};
};

void ExpectStatus(const Status& s, HResult code, std::string_view part) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string_view::npos) << s.ToString();
}

// ==== The in-test SCM ========================================================

// One call as the SCM saw it.
struct Seen {
  uint16_t opnum = 0;
  bool local = false;
  rpc::CallSecurity security;
  idl::ORPCTHIS orpcthis;
  bool unk_outer = false;
  Result<ActivationPropertiesIn> props = Status(E_UNEXPECTED, "not decoded");
};

class FakeScm final : public idl::IRemoteSCMActivator {
 public:
  explicit FakeScm(com::ComRuntime* server) : server_(server) {}

  Status Opnum0NotUsedOnWire() override { return Unused(); }
  Status Opnum1NotUsedOnWire() override { return Unused(); }
  Status Opnum2NotUsedOnWire() override { return Unused(); }
  Result<idl::HRESULT> RemoteGetClassObject(
      const idl::ORPCTHIS& orpcthis, idl::ORPCTHAT&,
      const ndr::Box<idl::MInterfacePointer>& props,
      ndr::Box<idl::MInterfacePointer>& out) override {
    return Answer(3, orpcthis, false, props, out);
  }
  Result<idl::HRESULT> RemoteCreateInstance(
      const idl::ORPCTHIS& orpcthis, idl::ORPCTHAT&,
      const ndr::Box<idl::MInterfacePointer>& outer,
      const ndr::Box<idl::MInterfacePointer>& props,
      ndr::Box<idl::MInterfacePointer>& out) override {
    return Answer(4, orpcthis, static_cast<bool>(outer), props, out);
  }

  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  // What the SCM answers over ncalrpc (local) and TCP: S_OK with the
  // objects, or a failed HRESULT.
  std::atomic<uint32_t> local_answer{0}, remote_answer{0};
  // The security callback's floor: calls below it get fault 5.
  std::atomic<AuthnLevel> refuse_below{AuthnLevel::kNone};
  ComPtr<Factory> factory = MakeComObject<Factory>();

 private:
  static Status Unused() {
    return Status(RPC_S_PROCNUM_OUT_OF_RANGE, "not used on the wire");
  }

  Result<idl::HRESULT> Answer(uint16_t opnum, const idl::ORPCTHIS& orpcthis,
                              bool outer,
                              const ndr::Box<idl::MInterfacePointer>& props,
                              ndr::Box<idl::MInterfacePointer>& out) {
    const rpc::CallContext* call = rpc::CurrentCall();
    Seen s;
    s.opnum = opnum;
    s.local = call->local;
    s.security = call->security;
    s.orpcthis = orpcthis;
    s.unk_outer = outer;
    if (props) s.props = DecodeActivationPropertiesIn(props->abData);
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(s);
    }
    const HResult answer(s.local ? local_answer.load() : remote_answer.load());
    if (answer.Failed()) return static_cast<idl::HRESULT>(answer.value());
    if (!s.props.ok())
      return static_cast<idl::HRESULT>(s.props.status().code().value());
    // Each IID asked for, marshaled by the server runtime (E_NOINTERFACE
    // for one the factory lacks).
    ActivationPropertiesOut reply;
    for (const Guid& iid : *s.props->instantiation.pIID) {
      auto objref = server_->MarshalInterface(iid, factory->unknown());
      reply.interfaces.push_back(
          {iid, objref.ok() ? S_OK : objref.status().code(),
           objref.ok() ? *objref : std::vector<uint8_t>{}});
    }
    reply.oxid = server_->oxid();
    reply.oxid_bindings.aStringArray = server_->resolver_bindings().Encode(
        &reply.oxid_bindings.wSecurityOffset);
    reply.oxid_bindings.wNumEntries =
        static_cast<uint16_t>(reply.oxid_bindings.aStringArray.size());
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            EncodeActivationPropertiesOut(reply));
    out = idl::MInterfacePointer{static_cast<uint32_t>(bytes.size()),
                                 std::move(bytes)};
    return 0;
  }

  com::ComRuntime* const server_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

auth::ntlm::ClientCredentials Alice() {
  auth::ntlm::ClientCredentials c;
  c.user = "alice";
  c.password = kPassword;
  return c;
}

class CoCreateInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    auto store = config::Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    // The objects' exporter lets unauthenticated callers execute (the local
    // test's client has no network package).
    com::testing::AllowAnonymousRemoteCalls(*store_);
    auto secrets = config::OpenSecrets(path_);
    ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
    config::AccountDatabase db(secrets->get());
    auto domain = db.EnsureDomain("activation");
    ASSERT_TRUE(domain.ok());
    domain_ = domain->name;
    ASSERT_TRUE(
        db.AddUser("alice", auth::ntlm::NtHashOfPassword(kPassword)).ok());
    runtime::ProgramSecurity program;
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = path_;
    auto options =
        runtime::RuntimeOptionsFromStore(store_.get(), program, nullptr);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    auto rt = runtime::Runtime::Create(std::move(*options), nullptr);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    server_rt_ = std::move(*rt);
    auto client_rt = runtime::Runtime::Create(
        *runtime::RuntimeOptionsFromStore(nullptr, {}, {}), nullptr);
    ASSERT_TRUE(client_rt.ok());
    client_rt_ = std::move(*client_rt);
    ntlm_ = client_rt_->NtlmClient(Alice());
    alice_ = std::make_shared<const auth::ntlm::NtlmCredentials>(Alice());

    // The server runtime whose objects the SCM hands out.
    com::ComRuntimeOptions so;
    so.server = server_rt_->ServerOptions();
    so.store = path_;
    so.security_bindings = {{com::kAuthnNtlm, com::kAuthzNone, u""}};
    auto server = com::ComRuntime::Start(so);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    com::CoInitializeSecurityParams cis;
    cis.authn_level = 1;  // any caller at any level reaches the objects
    ASSERT_TRUE((*server)->InitializeSecurity(cis).ok());
    server_ = std::move(*server);

    // The SCM: TCP on 127.0.0.2 (NTLM) and ncalrpc (the local package).
    scm_ = std::make_shared<FakeScm>(server_.get());
    rpc::InterfaceRegistration r = idl::IRemoteSCMActivatorRegistration(scm_);
    r.security_callback =
        [scm = scm_.get()](const rpc::CallContext& call) -> Status {
      if (call.security.authn_level < scm->refuse_below.load()) {
        return Status(E_ACCESSDENIED, "below the SCM's level");
      }
      return Status::Ok();
    };
    registry_.Register(std::move(r));
    scm_server_ =
        std::make_unique<rpc::Server>(&registry_, server_rt_->ServerOptions());
    auto bound = scm_server_->ListenAll(
        {"ncacn_ip_tcp:127.0.0.2[0]", "ncalrpc:[" + scm_dir_.path() + "/scm]"});
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    remote_name_ = "127.0.0.2[" + (*bound)[0].endpoint + "]";
    opts_.local_scm = (*bound)[1].ToString();
    auto sink = std::make_unique<CapturingLogSink>();
    sink_ = sink.get();
    std::vector<std::unique_ptr<LogSink>> sinks;
    sinks.push_back(std::move(sink));
    logger_ = std::make_unique<Logger>(std::move(sinks), LogSeverity::kDebug);
    opts_.logger = logger_.get();
  }
  void TearDown() override {
    client_.reset();
    scm_server_.reset();
    server_.reset();
  }

  // The client runtime; its blanket NTLM as alice at `level`, or none.
  void StartClient(std::optional<AuthnLevel> level) {
    com::ComRuntimeOptions co;
    if (level) {
      rpc::ClientAuth auth;
      auth.package = ntlm_.get();
      auth.level = *level;
      auth.credentials = alice_;
      co.client_auth = auth;
    }
    auto client = com::ComRuntime::Start(co);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
  }

  // LockServer through the interface the activation returned: the object
  // is the server's factory, reached through a proxy.
  void ExpectWorkingProxy(IUnknown* itf) {
    ASSERT_NE(itf, nullptr);
    const int before = scm_->factory->locks();
    ComPtr<IUnknown> held(itf);
    ComPtr<idl::IClassFactory> factory;
    ASSERT_EQ(held.As(&factory), S_OK);
    auto r = factory->RemoteLockServer(1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(scm_->factory->locks(), before + 1);
    ASSERT_TRUE(factory->RemoteLockServer(0).ok());
  }
  std::vector<LogEvent> Events(std::string_view name) {
    std::vector<LogEvent> out;
    for (const LogEvent& e : sink_->events()) {
      if (e.name == name) out.push_back(e);
    }
    return out;
  }
  std::u16string AliceName() const {
    return Utf8ToUtf16Lossy(domain_ + "\\alice");
  }

  rpc::testing::TempDir dir_;
  rpc::testing::TempDir scm_dir_;
  std::string path_;
  std::string domain_;
  std::unique_ptr<config::Store> store_;
  std::unique_ptr<runtime::Runtime> server_rt_;
  std::unique_ptr<runtime::Runtime> client_rt_;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_;
  std::shared_ptr<const rpc::Credentials> alice_;
  std::unique_ptr<com::ComRuntime> server_;
  std::shared_ptr<FakeScm> scm_;
  rpc::InterfaceRegistry registry_;
  std::unique_ptr<rpc::Server> scm_server_;
  std::unique_ptr<com::ComRuntime> client_;
  std::string remote_name_;
  CapturingLogSink* sink_ = nullptr;  // logger_'s
  std::unique_ptr<Logger> logger_;
  ActivationClientOptions opts_;
};

MULTI_QI Qi(const Guid& iid) { return MULTI_QI{iid, nullptr, S_OK}; }

// ==== Arguments and CLSCTX (R125) ============================================

TEST_F(CoCreateInstanceTest, R125_RefusesBadArgumentsBeforeAnythingIsTried) {
  StartClient(std::nullopt);
  std::vector<MULTI_QI> none;
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                            nullptr, none, opts_);
  ExpectStatus(r.status(), E_INVALIDARG, "needs at least one MULTI_QI");
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                               nullptr, none, opts_),
            E_INVALIDARG);

  MULTI_QI qi[] = {Qi(IID_IUnknown)};
  r = CreateInstanceEx(*client_, kClsid, nullptr,
                       CLSCTX_LOCAL_SERVER | CLSCTX_ACTIVATE_32_BIT_SERVER |
                           CLSCTX_ACTIVATE_64_BIT_SERVER,
                       nullptr, qi, opts_);
  ExpectStatus(
      r.status(), E_INVALIDARG,
      "both CLSCTX_ACTIVATE_32_BIT_SERVER and CLSCTX_ACTIVATE_64_BIT_SERVER");
  EXPECT_EQ(qi[0].hr, E_INVALIDARG);
  r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_NO_FAILURE_LOG,
                       nullptr, qi, opts_);
  ExpectStatus(r.status(), E_INVALIDARG, "names no server context");

  COSERVERINFO bad_port{"build-02[70000]"};
  r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                       &bad_port, qi, opts_);
  ExpectStatus(r.status(), E_INVALIDARG,
               "the port in brackets must be 1-65535");
  EXPECT_TRUE(scm_->seen().empty());
}

TEST_F(CoCreateInstanceTest, AnOuterUnknownOutsideThisProcessIsNoAggregation) {
  StartClient(std::nullopt);
  ComPtr<Thing> outer = MakeComObject<Thing>();
  MULTI_QI qi[] = {Qi(IID_IUnknown)};
  auto r = CreateInstanceEx(*client_, kClsid, outer->unknown(),
                            CLSCTX_LOCAL_SERVER, nullptr, qi, opts_);
  ExpectStatus(r.status(), CLASS_E_NOAGGREGATION,
               "cannot be aggregated outside this process");
  EXPECT_EQ(qi[0].hr, CLASS_E_NOAGGREGATION);
  COSERVERINFO remote{remote_name_};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, outer->unknown(),
                               CLSCTX_REMOTE_SERVER, &remote, qi, opts_),
            CLASS_E_NOAGGREGATION);
  // INPROC_SERVER too: the class is not registered here, and no SCM may
  // take an outer unknown.
  r = CreateInstanceEx(*client_, kClsid, outer->unknown(),
                       CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER, nullptr, qi,
                       opts_);
  ExpectStatus(
      r.status(), CLASS_E_NOAGGREGATION,
      "is not registered in this process, and cannot be aggregated outside it");
  EXPECT_TRUE(scm_->seen().empty());
}

TEST_F(CoCreateInstanceTest, PersistentActivationIsNotImplemented) {
  StartClient(std::nullopt);
  MULTI_QI qi[] = {Qi(IID_IUnknown), Qi(IThing::kIid)};
  Status s = CoGetInstanceFromFile(*client_, nullptr, &kClsid, nullptr,
                                   CLSCTX_LOCAL_SERVER, 0, u"/srv/doc.txt", qi);
  ExpectStatus(
      s, E_NOTIMPL,
      "persistent activation (CoGetInstanceFromFile, InstanceInfo) is not "
      "supported");
  EXPECT_EQ(qi[0].hr, E_NOTIMPL);
  EXPECT_EQ(qi[1].hr, E_NOTIMPL);
}

TEST(ServerNames, R121_HostAndPort) {
  auto n = ParseServerName("build-02", 135);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->host, "build-02");
  EXPECT_EQ(n->port, 135);
  n = ParseServerName("\\\\build-02[1350]", 135);  // UNC form, own port
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->host, "build-02");
  EXPECT_EQ(n->port, 1350);
  n = ParseServerName("10.0.0.5", 4135);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->port, 4135);
  for (const char* bad :
       {"\\\\", "[135]", "host[]", "host[0]", "host[65536]", "host[1x]"}) {
    auto r = ParseServerName(bad, 135);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), E_INVALIDARG) << bad;
  }
}

TEST(ServerNames, R125_ThisMachineByNameNotByRoute) {
  char buf[256] = {};
  ASSERT_EQ(gethostname(buf, sizeof buf - 1), 0);
  std::string me = buf;
  std::string upper = me;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& name :
       {std::string("localhost"), std::string("LOCALHOST"),
        std::string("127.0.0.1"), std::string("::1"), std::string("."), me,
        upper, me.substr(0, me.find('.'))}) {
    EXPECT_TRUE(NamesThisMachine(name)) << name;
  }
  for (const char* other : {"127.0.0.2", "build-02.invalid", "", "10.0.0.5"}) {
    EXPECT_FALSE(NamesThisMachine(other)) << other;
  }
}

// ==== In this process ========================================================

TEST_F(CoCreateInstanceTest, R125_AClassRegisteredInThisProcessIsCreatedHere) {
  StartClient(std::nullopt);
  ComPtr<Factory> factory = MakeComObject<Factory>();
  auto cookie = client_->classes().Register(kClsid, factory->unknown(),
                                            CLSCTX_INPROC_SERVER,
                                            com::REGCLS_MULTIPLEUSE);
  ASSERT_TRUE(cookie.ok());
  // Every interface: S_OK. INPROC_SERVER comes first even with an SCM
  // asked for too (R125), which is never contacted.
  MULTI_QI all[] = {Qi(IThing::kIid), Qi(IID_IUnknown)};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_SERVER,
                               nullptr, all, opts_),
            S_OK);
  ASSERT_TRUE(all[0].itf && all[1].itf);
  EXPECT_TRUE(SameObject(all[0].itf.get(), all[1].itf.get()));
  // Some: CO_S_NOTALLINTERFACES, each hr its own.
  MULTI_QI some[] = {Qi(kMissing), Qi(IThing::kIid)};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_INPROC_SERVER,
                               nullptr, some, opts_),
            CO_S_NOTALLINTERFACES);
  EXPECT_EQ(some[0].hr, E_NOINTERFACE);
  EXPECT_EQ(some[0].itf, nullptr);
  EXPECT_EQ(some[1].hr, S_OK);
  // None: E_NOINTERFACE, with its reason.
  MULTI_QI missing[] = {Qi(kMissing)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_INPROC_SERVER,
                            nullptr, missing, opts_);
  ExpectStatus(r.status(), E_NOINTERFACE,
               "gave none of the 1 interfaces asked for");
  // An outer unknown: comsec's class objects are never aggregated.
  ComPtr<Thing> outer = MakeComObject<Thing>();
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, outer->unknown(),
                               CLSCTX_INPROC_SERVER, nullptr, all, opts_),
            CLASS_E_NOAGGREGATION);
  // The class object itself.
  auto class_object = CoGetClassObject(*client_, kClsid, CLSCTX_INPROC_SERVER,
                                       nullptr, idl::IID_IClassFactory, opts_);
  ASSERT_TRUE(class_object.ok()) << class_object.status().ToString();
  EXPECT_TRUE(SameObject(class_object->get(), factory->unknown()));
  auto lacking = CoGetClassObject(*client_, kClsid, CLSCTX_INPROC_SERVER,
                                  nullptr, IThing::kIid, opts_);
  ExpectStatus(lacking.status(), E_NOINTERFACE, "does not implement");
  EXPECT_TRUE(scm_->seen().empty());
  ASSERT_TRUE(client_->classes().Revoke(*cookie).ok());
  // Revoked, and INPROC_SERVER alone: not registered.
  r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_INPROC_SERVER, nullptr,
                       all, opts_);
  ExpectStatus(r.status(), REGDB_E_CLASSNOTREG,
               "is not registered for CLSCTX 0x00000001");
}

// ==== Through comsecd's SCM (ncalrpc) ========================================

TEST_F(CoCreateInstanceTest, LocalActivationGoesToTheLocalScmAtPktIntegrity) {
  StartClient(std::nullopt);
  // (kMissing: an interface the object lacks, E_NOINTERFACE.)
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory), Qi(kMissing)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                            nullptr, qi, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, CO_S_NOTALLINTERFACES);
  EXPECT_EQ(qi[0].hr, S_OK);
  EXPECT_EQ(qi[1].hr, E_NOINTERFACE);
  EXPECT_EQ(qi[1].itf, nullptr);
  ExpectWorkingProxy(qi[0].itf.get());

  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 1u);
  const Seen& s = seen[0];
  EXPECT_EQ(s.opnum, 4);
  EXPECT_TRUE(s.local);
  // The kernel's package, raised from CONNECT (case 39's rule, locally).
  EXPECT_EQ(s.security.authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(s.security.authn_svc, rpc::RPC_C_AUTHN_KERNEL);
  EXPECT_EQ(s.orpcthis.version, (idl::COMVERSION{5, 7}));
  EXPECT_NE(s.orpcthis.cid, Guid{});
  EXPECT_FALSE(s.orpcthis.extensions);
  EXPECT_FALSE(s.unk_outer);
  ASSERT_TRUE(s.props.ok()) << s.props.status().ToString();
  const ActivationPropertiesIn& p = *s.props;
  EXPECT_EQ(p.order, (std::vector<Guid>{
                         CLSID_SpecialSystemProperties, CLSID_InstantiationInfo,
                         CLSID_ActivationContextInfo, CLSID_SecurityInfo,
                         CLSID_ServerLocationInfo, CLSID_ScmRequestInfo}));
  EXPECT_EQ(p.dest_ctx, com::MSHCTX_LOCAL);
  EXPECT_EQ(p.instantiation.classId, kClsid);
  EXPECT_EQ(p.instantiation.classCtx, CLSCTX_LOCAL_SERVER);
  EXPECT_EQ(*p.instantiation.pIID,
            (std::vector<Guid>{idl::IID_IClassFactory, kMissing}));
  EXPECT_EQ(p.instantiation.clientCOMVersion, (idl::COMVERSION{5, 7}));
  EXPECT_EQ(p.special->dwSessionId, 0xFFFFFFFFu);
  EXPECT_EQ(p.special->dwDefaultAuthnLvl, 5u);
  EXPECT_EQ(p.special->dwOrigClsctx, CLSCTX_LOCAL_SERVER);
  EXPECT_FALSE(p.security->pServerInfo);
  EXPECT_EQ(p.scm_request.remoteRequest->ClientImpLevel, 3u);
  EXPECT_EQ(*p.scm_request.remoteRequest->pRequestedProtseqs,
            (std::vector<uint16_t>{com::kTowerIdNcalrpc, com::kTowerIdTcp}));

  const std::vector<LogEvent> raised = Events("activation.level_raised");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].authn_level, 5u);
  EXPECT_NE(raised[0].message.find("raised from RPC_C_AUTHN_LEVEL_CONNECT"),
            std::string::npos)
      << raised[0].message;
}

TEST_F(CoCreateInstanceTest,
       R125_RemoteServerWithoutANameAndThisMachinesNameGoToTheLocalScm) {
  StartClient(std::nullopt);
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory)};
  // REMOTE_SERVER with no machine named: comsecd decides (RemoteServerName).
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                               nullptr, qi, opts_),
            S_OK);
  // "localhost" is this machine: REMOTE_SERVER becomes LOCAL_SERVER.
  COSERVERINFO here{"localhost"};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                               &here, qi, opts_),
            S_OK);
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].local && seen[1].local);
  EXPECT_EQ(seen[0].props->instantiation.classCtx, CLSCTX_REMOTE_SERVER);
  EXPECT_EQ(seen[1].props->instantiation.classCtx, CLSCTX_LOCAL_SERVER);
  EXPECT_EQ(seen[1].props->special->dwOrigClsctx, CLSCTX_REMOTE_SERVER);
}

TEST_F(CoCreateInstanceTest, TheScmsFailureIsTheAnswerForEveryInterface) {
  StartClient(std::nullopt);
  scm_->local_answer = REGDB_E_CLASSNOTREG.value();
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory), Qi(kMissing)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                            nullptr, qi, opts_);
  ExpectStatus(r.status(), REGDB_E_CLASSNOTREG,
               "refused the activation of " + kClsid.ToString());
  EXPECT_EQ(qi[0].hr, REGDB_E_CLASSNOTREG);
  EXPECT_EQ(qi[1].hr, REGDB_E_CLASSNOTREG);
  EXPECT_EQ(Events("activation.failed").size(), 1u);
}

TEST_F(CoCreateInstanceTest, ALocalScmThatIsNotThereIsServerUnavailable) {
  StartClient(std::nullopt);
  opts_.local_scm = "ncalrpc:[" + scm_dir_.path() + "/nobody]";
  MULTI_QI qi[] = {Qi(IID_IUnknown)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                            nullptr, qi, opts_);
  ExpectStatus(r.status(), RPC_S_SERVER_UNAVAILABLE,
               "cannot reach the SCM at ncalrpc:[");
  EXPECT_EQ(qi[0].hr, RPC_S_SERVER_UNAVAILABLE);
}

TEST_F(CoCreateInstanceTest, GetClassObjectThroughTheLocalScm) {
  StartClient(std::nullopt);
  auto object = CoGetClassObject(*client_, kClsid, CLSCTX_LOCAL_SERVER, nullptr,
                                 idl::IID_IClassFactory, opts_);
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ExpectWorkingProxy(object->get());
  auto lacking = CoGetClassObject(*client_, kClsid, CLSCTX_LOCAL_SERVER,
                                  nullptr, kMissing, opts_);
  ExpectStatus(lacking.status(), E_NOINTERFACE, "could not give interface");
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].opnum, 3);
  EXPECT_EQ(*seen[0].props->instantiation.pIID,
            std::vector<Guid>{idl::IID_IClassFactory});
}

// ==== Through another machine's SCM (TCP) ====================================

// Case 39: an explicit COAUTHINFO at CONNECT reaches the SCM at
// PKT_INTEGRITY, which the SCM's own check saw.
TEST_F(CoCreateInstanceTest, Case39_ACoauthinfoAtConnectArrivesAtPktIntegrity) {
  StartClient(AuthnLevel::kConnect);
  COAUTHINFO auth;
  auth.authn_svc = com::RPC_C_AUTHN_WINNT;
  auth.authn_level = 2;  // RPC_C_AUTHN_LEVEL_CONNECT
  auth.imp_level = 3;
  auth.identity = alice_;
  COSERVERINFO server{remote_name_, &auth};
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                            &server, qi, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, S_OK);
  ExpectWorkingProxy(qi[0].itf.get());

  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 1u);
  const Seen& s = seen[0];
  EXPECT_FALSE(s.local);
  EXPECT_EQ(s.security.authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(s.security.authn_svc, com::RPC_C_AUTHN_WINNT);
  EXPECT_EQ(Utf8ToUtf16Lossy(s.security.principal), AliceName());
  ASSERT_TRUE(s.props.ok());
  const ActivationPropertiesIn& p = *s.props;
  EXPECT_EQ(p.dest_ctx, MSHCTX_DIFFERENTMACHINE);
  EXPECT_EQ(p.instantiation.classCtx,
            CLSCTX_LOCAL_SERVER);  // as forwarded (R125)
  EXPECT_EQ(p.special->dwOrigClsctx, CLSCTX_REMOTE_SERVER);
  EXPECT_EQ(p.special->dwDefaultAuthnLvl, 5u);
  ASSERT_TRUE(p.security->pServerInfo);
  EXPECT_EQ(p.security->pServerInfo->pwszName, u"127.0.0.2");
  EXPECT_EQ(*p.scm_request.remoteRequest->pRequestedProtseqs,
            std::vector<uint16_t>{com::kTowerIdTcp});
  const std::vector<LogEvent> raised = Events("activation.level_raised");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_NE(raised[0].message.find("(COAUTHINFO)"), std::string::npos)
      << raised[0].message;
}

TEST_F(CoCreateInstanceTest,
       Case39_WithoutCoauthinfoTheProcesssBlanketIsRaised) {
  StartClient(AuthnLevel::kConnect);
  COSERVERINFO server{remote_name_};
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory)};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                               &server, qi, opts_),
            S_OK);
  // Privacy asked for: privacy on the wire.
  COAUTHINFO privacy;
  privacy.authn_level = 6;
  COSERVERINFO private_server{remote_name_, &privacy};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                               &private_server, qi, opts_),
            S_OK);
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].security.authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(Utf8ToUtf16Lossy(seen[0].security.principal), AliceName());
  EXPECT_EQ(seen[1].security.authn_level, AuthnLevel::kPktPrivacy);
}

TEST_F(CoCreateInstanceTest, TheScmsFaultFiveIsAccessDenied) {
  StartClient(AuthnLevel::kConnect);
  scm_->refuse_below = AuthnLevel::kPktPrivacy;
  COSERVERINFO server{remote_name_};
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory), Qi(kMissing)};
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                            &server, qi, opts_);
  ExpectStatus(r.status(), E_ACCESSDENIED,
               "RemoteCreateInstance to the SCM at ncacn_ip_tcp:");
  EXPECT_EQ(qi[0].hr, E_ACCESSDENIED);
  EXPECT_EQ(qi[1].hr, E_ACCESSDENIED);
  const std::vector<LogEvent> failed = Events("activation.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].hresult, E_ACCESSDENIED);
}

TEST_F(CoCreateInstanceTest, R123_UnsecureActivationArrivesUnauthenticated) {
  StartClient(AuthnLevel::kConnect);
  COAUTHINFO unsecure;
  unsecure.authn_level = 1;  // RPC_C_AUTHN_LEVEL_NONE
  unsecure.imp_level = 3;
  COSERVERINFO server{remote_name_, &unsecure};
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory)};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                               &server, qi, opts_),
            S_OK);
  // Below IMPERSONATE: refused before anything is sent (R123).
  unsecure.imp_level = 2;
  auto r = CreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_REMOTE_SERVER,
                            &server, qi, opts_);
  ExpectStatus(r.status(), RPC_S_SERVER_UNAVAILABLE, "an unsecure activation");
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].security.authn_level, AuthnLevel::kNone);
  EXPECT_EQ(seen[0].security.principal, "");
  EXPECT_EQ(seen[0].props->special->dwDefaultAuthnLvl, 1u);
  EXPECT_TRUE(Events("activation.level_raised").empty());
}

TEST_F(CoCreateInstanceTest, R125_NotRegisteredLocallyGoesOnToTheNamedMachine) {
  StartClient(AuthnLevel::kConnect);
  scm_->local_answer = REGDB_E_CLASSNOTREG.value();
  COSERVERINFO server{remote_name_};
  MULTI_QI qi[] = {Qi(idl::IID_IClassFactory)};
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                               &server, qi, opts_),
            S_OK);
  ExpectWorkingProxy(qi[0].itf.get());
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].local);
  EXPECT_FALSE(seen[1].local);
  // Any other local failure is the answer.
  scm_->local_answer = E_ACCESSDENIED.value();
  EXPECT_EQ(CoCreateInstanceEx(*client_, kClsid, nullptr, CLSCTX_LOCAL_SERVER,
                               &server, qi, opts_),
            E_ACCESSDENIED);
  EXPECT_EQ(scm_->seen().size(), 3u);
}

TEST_F(CoCreateInstanceTest, GetClassObjectOnTheNamedMachine) {
  StartClient(AuthnLevel::kConnect);
  COSERVERINFO server{remote_name_};
  auto object = CoGetClassObject(*client_, kClsid, CLSCTX_REMOTE_SERVER,
                                 &server, idl::IID_IClassFactory, opts_);
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ExpectWorkingProxy(object->get());
  const std::vector<Seen> seen = scm_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].opnum, 3);
  EXPECT_EQ(seen[0].security.authn_level, AuthnLevel::kPktIntegrity);
}

}  // namespace
}  // namespace comsec::activation
