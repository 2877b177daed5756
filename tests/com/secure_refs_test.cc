// Secure references (reference tracking; rules R48, R145, R73's
// LegacySecureReferences; conformance case 45; [MS-DCOM] 3.1.1.5.6.1.2-3):
// one exporter over TCP loopback with the real NTLM package validating two
// accounts of a configuration store (alice, bob), called by
//   - A: a ComRuntime authenticated as alice, with or without
//     ComRuntimeOptions::secure_references, holding a proxy to an object;
//   - B: a raw IRemUnknown client authenticated as bob (or not at all),
//     releasing references on A's IPID as an attacker would.
// With secure references A's references are private, counted for alice's
// SID: whatever B releases, A's object survives and A's calls succeed.
// Without them, B's RemRelease of 1000 public references takes the object
// away and A's next call gets RPC_E_DISCONNECTED.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "../base/captured_log.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/base/com_object.h"
#include "comsec/com/com_runtime.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/config/accounts.h"
#include "com_test_support.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/secrets.h"
#include "comsec/config/store.h"
#include "iremunknown.h"
#include "runtime_test.h"

namespace comsec::com {
namespace {

using idl::INode;
using security::AuthnLevel;

std::atomic<int> alive{0};

class Node final : public ComObject<INode, idl::ILabel> {
 public:
  explicit Node(int32_t value) : value_(value) { ++alive; }
  ~Node() override { --alive; }
  Result<idl::HRESULT> Value(int32_t& value) override {
    value = value_;
    return 0;
  }
  Result<idl::HRESULT> Child(ComPtr<INode>& child) override {
    child = ComPtr<INode>(MakeComObject<Node>(value_ + 1).get());
    return 0;
  }
  Result<idl::HRESULT> Ask(const ComPtr<INode>&, int32_t&) override {
    return static_cast<idl::HRESULT>(E_NOTIMPL.value());
  }
  Result<idl::HRESULT> Causality(std::optional<std::u16string>& cid) override {
    cid = u"none";
    return 0;
  }
  Result<idl::HRESULT> Label(std::optional<std::u16string>& label) override {
    label = u"node";
    return 0;
  }

 private:
  const int32_t value_;
};

// The identity B's raw channel hands its proxies (nothing calls it).
class Nobody final : public ComObject<idl::ILabel> {
 public:
  Result<idl::HRESULT> Label(std::optional<std::u16string>& label) override {
    label = u"nobody";
    return 0;
  }
};

constexpr HResult kDisconnected{0x80010108u};  // RPC_E_DISCONNECTED

auth::ntlm::ClientCredentials Account(const char* user, const char* password) {
  auth::ntlm::ClientCredentials c;
  c.user = user;
  c.password = password;
  return c;
}

uint32_t U(int32_t hr) { return static_cast<uint32_t>(hr); }

class SecureRefs : public ::testing::Test {
 protected:
  void SetUp() override {
    // The store's account database: alice and bob, as `comcfg user add`
    // makes them.
    path_ = "/tmp/comsec-secure-refs-" + std::to_string(getpid()) + ".db";
    RemoveStore();
    {
      auto secrets = config::OpenSecrets(path_);
      ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
      config::AccountDatabase db(secrets->get());
      ASSERT_TRUE(db.EnsureDomain("refs-host").ok());
      ASSERT_TRUE(db.AddUser("alice", auth::ntlm::NtHash(u"pw-a")).ok());
      ASSERT_TRUE(db.AddUser("bob", auth::ntlm::NtHash(u"pw-b")).ok());
      alice_sid_ = (*db.FindUser("alice"))->sid;
      bob_sid_ = (*db.FindUser("bob"))->sid;
    }
    auto validator = auth::ntlm::StoreLogonValidator::Open(path_, auth::ntlm::LogonPolicy{},
                                                           nullptr);
    ASSERT_TRUE(validator.ok()) << validator.status().ToString();
    validator_ = std::move(*validator);
    auth::ntlm::ServerOptions so;
    so.validator = validator_.get();
    so.allow_anonymous = true;  // for AnonymousLogonPrivateAddRefIsAccessDenied
    server_package_ = std::make_unique<auth::ntlm::NtlmPackage>(so);
    packages_.Add(server_package_.get());

    {
      // Unauthenticated callers (UnauthenticatedPrivateAddRefIsAccessDenied)
      // are remote ANONYMOUS LOGON, which the default MachineAccessRestriction
      // refuses (R139, R175): this machine lets them execute, explicitly.
      auto store = config::Store::Open(path_);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      testing::AllowAnonymousRemoteCalls(**store);
    }
    ComRuntimeOptions options;
    options.server.packages = &packages_;
    options.logger = log_.logger();
    options.store = path_;
    auto server = ComRuntime::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    // Every caller reaches IRemUnknown, at any level: what is under test
    // is its reference counting (R66, R71).
    CoInitializeSecurityParams cis;
    cis.authn_level = 1;
    ASSERT_TRUE(server_->InitializeSecurity(cis).ok());
    server_->RegisterInterface(idl::INodeInfo());
    server_->RegisterInterface(idl::ILabelInfo());
    for (const rpc::StringBinding& b : server_->endpoints()) {
      if (b.ToString().find("ncacn_ip_tcp") == 0) tcp_ = b;
    }
    ASSERT_FALSE(tcp_.ToString().empty());
  }
  void TearDown() override {
    a_.reset();
    server_.reset();
    EXPECT_EQ(alive, 0);
    RemoveStore();
  }
  void RemoveStore() {
    for (const auto& p : {path_, config::SecretsPathFor(path_)}) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
    }
  }

  // A: a client runtime authenticated as alice at PKT_INTEGRITY.
  std::unique_ptr<ComRuntime> StartA(bool secure_references) {
    ComRuntimeOptions options;
    options.client_auth = rpc::ClientAuth{&alice_package_, AuthnLevel::kPktIntegrity};
    options.secure_references = secure_references;
    auto rt = ComRuntime::Start(options);
    EXPECT_TRUE(rt.ok()) << rt.status().ToString();
    if (!rt.ok()) return nullptr;
    (*rt)->RegisterInterface(idl::INodeInfo());
    (*rt)->RegisterInterface(idl::ILabelInfo());
    return std::move(*rt);
  }

  // An object of the server's, marshaled normally (5 public references).
  std::vector<uint8_t> Export(int32_t value) {
    ComPtr<Node> node = MakeComObject<Node>(value);
    auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
    EXPECT_TRUE(objref.ok()) << objref.status().ToString();
    return objref.ok() ? *objref : std::vector<uint8_t>{};
  }

  // B: IRemUnknown on the server's exporter, as `package`'s account (null:
  // unauthenticated).
  std::unique_ptr<OrpcChannel> RemUnknownAs(rpc::SecurityPackage* package,
                                            AuthnLevel level = AuthnLevel::kPktIntegrity) {
    auto c = rpc::Client::Connect(tcp_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    rpc::ClientAuth auth{package, level};
    Status bound = (*c)->Bind(rpc::SyntaxId{idl::IID_IRemUnknown, 0, 0},
                              package != nullptr ? &auth : nullptr);
    EXPECT_TRUE(bound.ok()) << bound.ToString();
    return std::make_unique<OrpcChannel>(std::move(*c), server_->exporter().rem_unknown_ipid(),
                                         nobody_->unknown());
  }

  static Guid IpidOf(const std::vector<uint8_t>& objref) { return DecodeObjref(objref)->std.ipid; }

  CapturedLog log_;
  std::string path_;
  security::Sid alice_sid_, bob_sid_;
  std::unique_ptr<auth::ntlm::StoreLogonValidator> validator_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_package_;
  rpc::SecurityPackageRegistry packages_;
  auth::ntlm::NtlmPackage alice_package_{Account("alice", "pw-a")};
  auth::ntlm::NtlmPackage bob_package_{Account("bob", "pw-b")};
  ComPtr<Nobody> nobody_ = MakeComObject<Nobody>();
  std::unique_ptr<ComRuntime> server_;
  rpc::StringBinding tcp_;
  std::unique_ptr<ComRuntime> a_;
};


// Case 45 with secure references on: A's references are private (alice's);
// B's RemRelease of 1000 public references clamps the public count at 0
// without wrapping, B's RemRelease of 1000 private references releases
// nothing, and A's object survives: A's next call succeeds.
TEST_F(SecureRefs, Case45_SecureRefsOnAObjectSurvivesBRelease) {
  a_ = StartA(/*secure_references=*/true);
  ASSERT_TRUE(a_);
  auto objref = Export(45);
  const Guid ipid = IpidOf(objref);
  auto node = a_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  // A converted the OBJREF's 5 public references into one private one.
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 1u));
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, alice_sid_), 1u);

  auto b = RemUnknownAs(&bob_package_);
  ASSERT_TRUE(b);
  idl::IRemUnknownProxy rem(b.get());
  auto r = rem.RemRelease(1, {{ipid, 1000, 0}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 1u));  // clamped, no wrap
  r = rem.RemRelease(1, {{ipid, 0, 1000}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);  // [MS-DCOM] 3.1.1.5.6.1.3 has no error for it
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 1u));
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, alice_sid_), 1u);
  auto ignored = log_.Named("com.private_refs_not_held");
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_EQ(ignored[0].principal.value_or(""), bob_sid_.ToString());

  int32_t value = 0;
  auto call = (*node)->Value(value);
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  EXPECT_EQ(value, 45);
  EXPECT_EQ(alive, 1);
  // A's last release gives its private reference back: the export goes.
  node->reset();
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(alive, 0);
}

// Case 45 with secure references off (Windows's default): A holds public
// references, B's RemRelease of 1000 of them (clamped at 0) releases the
// object, and A's next call is RPC_E_DISCONNECTED. The server still serves.
TEST_F(SecureRefs, Case45_SecureRefsOffBReleaseDisconnectsA) {
  a_ = StartA(/*secure_references=*/false);
  ASSERT_TRUE(a_);
  auto objref = Export(46);
  const Guid ipid = IpidOf(objref);
  auto node = a_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(5u, 0u));

  auto b = RemUnknownAs(&bob_package_);
  ASSERT_TRUE(b);
  idl::IRemUnknownProxy rem(b.get());
  auto r = rem.RemRelease(1, {{ipid, 1000, 0}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_FALSE(server_->exporter().RefsOf(ipid).has_value());
  EXPECT_EQ(alive, 0);  // the exporter's reference was the last one

  int32_t value = 0;
  auto call = (*node)->Value(value);
  ASSERT_FALSE(call.ok());
  EXPECT_EQ(call.status().code(), kDisconnected) << call.status().ToString();
  node->reset();

  // The server still serves A (and B).
  auto again = a_->Unmarshal<INode>(Export(47));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE((*again)->Value(value).ok());
  EXPECT_EQ(value, 47);
}

// Two identities' private references on one IPID: B's release of its own
// drops only B's count (clamped at zero); B's further releases, public or
// private, never touch A's.
TEST_F(SecureRefs, BReleasingPrivateRefsReleasesOnlyItsOwn) {
  a_ = StartA(/*secure_references=*/true);
  ASSERT_TRUE(a_);
  auto objref = Export(48);
  const Guid ipid = IpidOf(objref);
  auto node = a_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();

  auto b = RemUnknownAs(&bob_package_);
  ASSERT_TRUE(b);
  idl::IRemUnknownProxy rem(b.get());
  std::vector<idl::HRESULT> results;
  auto added = rem.RemAddRef(1, {{ipid, 0, 2}}, results);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, 0);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], 0);
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, bob_sid_), 2u);
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, alice_sid_), 1u);
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 3u));

  ASSERT_TRUE(rem.RemRelease(1, {{ipid, 1000, 1000}}).ok());
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, bob_sid_), 0u);  // clamped
  EXPECT_EQ(server_->exporter().PrivateRefsOf(ipid, alice_sid_), 1u);
  // B held 2 of the 1000 it released.
  auto ignored = log_.Named("com.private_refs_not_held");
  ASSERT_EQ(ignored.size(), 1u);
  ASSERT_EQ(ignored[0].extras.size(), 1u);
  EXPECT_EQ(ignored[0].extras[0], std::make_pair(std::string("refs"), std::string("998")));
  ASSERT_TRUE(rem.RemRelease(2, {{ipid, 0, 1}, {ipid, 1, 0}}).ok());
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 1u));

  int32_t value = 0;
  ASSERT_TRUE((*node)->Value(value).ok());
  EXPECT_EQ(value, 48);
  // An interface A gets later (RemQueryInterface) is converted too.
  void* label = nullptr;
  ASSERT_EQ((*node)->QueryInterface(idl::IID_ILabel, &label), HResult(0));
  ComPtr<idl::ILabel> l = ComPtr<idl::ILabel>::Adopt(static_cast<idl::ILabel*>(label));
  std::optional<std::u16string> text;
  ASSERT_TRUE(l->Label(text).ok());
  EXPECT_EQ(text, u"node");
  EXPECT_EQ(server_->exporter().exported_interfaces(), 2u);
  l.reset();
  node->reset();
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

// Private references need an identity (R48): an unauthenticated RemAddRef
// asking for them is refused as a whole with E_ACCESSDENIED, every entry's
// result E_ACCESSDENIED, nothing granted (not even the public references
// asked for with them), one log event; the server still serves, public
// references included.
TEST_F(SecureRefs, UnauthenticatedPrivateAddRefIsAccessDenied) {
  auto objref = Export(49);
  const Guid ipid = IpidOf(objref);
  auto anonymous = RemUnknownAs(nullptr);
  ASSERT_TRUE(anonymous);
  idl::IRemUnknownProxy rem(anonymous.get());
  std::vector<idl::HRESULT> results;
  auto refused = rem.RemAddRef(2, {{ipid, 3, 0}, {ipid, 0, 1}}, results);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(U(*refused), E_ACCESSDENIED.value());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(U(results[0]), E_ACCESSDENIED.value());
  EXPECT_EQ(U(results[1]), E_ACCESSDENIED.value());
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(5u, 0u));
  auto events = log_.Named("com.private_refs_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].hresult, E_ACCESSDENIED);
  EXPECT_NE(events[0].reason.value_or("").find("R48"), std::string::npos);

  // Still serving: public references for the same caller...
  auto added = rem.RemAddRef(1, {{ipid, 3, 0}}, results);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, 0);
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(8u, 0u));
  // ...its unauthenticated private release releases nothing...
  ASSERT_TRUE(rem.RemRelease(1, {{ipid, 0, 5}}).ok());
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(8u, 0u));
  // ...and an authenticated secure-refs client gets its private reference.
  a_ = StartA(/*secure_references=*/true);
  ASSERT_TRUE(a_);
  auto node = a_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(3u, 1u));
  int32_t value = 0;
  ASSERT_TRUE((*node)->Value(value).ok());
  EXPECT_EQ(value, 49);
  node->reset();
  ASSERT_TRUE(rem.RemRelease(1, {{ipid, 3, 0}}).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

// The anonymous logon authenticates nobody: every anonymous caller would
// share its "identity" (ANONYMOUS LOGON, S-1-5-7), so it gets no private
// references either.
TEST_F(SecureRefs, AnonymousLogonPrivateAddRefIsAccessDenied) {
  auto objref = Export(51);
  const Guid ipid = IpidOf(objref);
  auth::ntlm::NtlmPackage anonymous_package{auth::ntlm::ClientCredentials{}};
  auto anonymous = RemUnknownAs(&anonymous_package, AuthnLevel::kConnect);
  ASSERT_TRUE(anonymous);
  idl::IRemUnknownProxy rem(anonymous.get());
  std::vector<idl::HRESULT> results;
  auto refused = rem.RemAddRef(1, {{ipid, 0, 1}}, results);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(U(*refused), E_ACCESSDENIED.value());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(U(results[0]), E_ACCESSDENIED.value());
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(5u, 0u));
  EXPECT_EQ(log_.Named("com.private_refs_refused").size(), 1u);
  // Public references it may still give back (anyone may).
  ASSERT_TRUE(rem.RemRelease(1, {{ipid, 5, 0}}).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

// R48: secure references without an authentication level above NONE is
// an invalid configuration, refused when the runtime starts.
TEST_F(SecureRefs, R48_SecureRefsNeedALevelAboveNone) {
  ComRuntimeOptions none;
  none.secure_references = true;
  auto refused = ComRuntime::Start(none);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_INVALIDARG);
  EXPECT_NE(std::string(refused.status().message()).find("R48"), std::string::npos);
  ComRuntimeOptions level_none;
  level_none.secure_references = true;
  level_none.client_auth = rpc::ClientAuth{&alice_package_, AuthnLevel::kNone};
  refused = ComRuntime::Start(level_none);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_INVALIDARG);
  ComRuntimeOptions connect;
  connect.secure_references = true;
  connect.client_auth = rpc::ClientAuth{&alice_package_, AuthnLevel::kConnect};
  auto started = ComRuntime::Start(connect);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
}

// A client that stops pinging: its object runs down with every count,
// the private references of every identity included.
TEST_F(SecureRefs, RunDownReleasesPrivateRefs) {
  a_ = StartA(/*secure_references=*/true);
  ASSERT_TRUE(a_);
  auto objref = Export(50);
  const Guid ipid = IpidOf(objref);
  const uint64_t oid = DecodeObjref(objref)->std.oid;
  auto node = a_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_EQ(server_->exporter().RefsOf(ipid), std::make_pair(0u, 1u));
  EXPECT_EQ(alive, 1);
  const uint64_t oids[] = {oid};
  server_->exporter().RunDown(oids);
  EXPECT_FALSE(server_->exporter().RefsOf(ipid).has_value());
  EXPECT_EQ(alive, 0);
  EXPECT_EQ(log_.Named("com.run_down").size(), 1u);
  int32_t value = 0;
  EXPECT_EQ((*node)->Value(value).status().code(), kDisconnected);
}

}  // namespace
}  // namespace comsec::com
