// The COM runtime (issue 13) between two runtimes of one test process —
// two object exporters with their own OXIDs and resolvers, talking MS-DCOM
// over loopback TCP exactly as two processes would: CoMarshalInterface /
// CoUnmarshalInterface, one proxy manager per object, RemQueryInterface
// behind QueryInterface, interface pointers as [in] and [out] parameters
// (an object returned by one runtime and called from a third), an OBJREF
// unmarshaled in its own process giving the object itself, references
// given back with RemRelease, causality carried through nested calls,
// pinging keeping an object alive and its absence running it down
// (case 42's shape, with short periods).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "comsec/base/com_object.h"
#include "comsec/base/utf16.h"
#include "comsec/com/coinit.h"
#include "comsec/com/com_runtime.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"
#include "comsec/security/sddl.h"
#include "iremunknown.h"
#include "com_test_support.h"
#include "runtime_test.h"

namespace comsec::com {
namespace {

using idl::ILabel;
using idl::INode;
using namespace std::chrono_literals;

std::atomic<int> alive{0};
std::atomic<int> value_calls{0};

class Node final : public ComObject<INode, ILabel> {
 public:
  explicit Node(int32_t value) : value_(value) { ++alive; }
  ~Node() override { --alive; }
  Result<idl::HRESULT> Value(int32_t& value) override {
    ++value_calls;
    value = value_;
    return 0;
  }
  Result<idl::HRESULT> Child(ComPtr<INode>& child) override {
    child = ComPtr<INode>(MakeComObject<Node>(value_ + 1).get());
    return 0;
  }
  Result<idl::HRESULT> Ask(const ComPtr<INode>& target, int32_t& value) override {
    if (!target) return static_cast<idl::HRESULT>(E_POINTER.value());
    auto r = target->Value(value);
    if (!r.ok()) return static_cast<idl::HRESULT>(r.status().code().value());
    return *r;
  }
  Result<idl::HRESULT> Causality(std::optional<std::u16string>& cid) override {
    const Guid* current = CausalityScope::current();
    cid = Utf8ToUtf16Lossy(current ? current->ToString() : "none");
    return 0;
  }
  Result<idl::HRESULT> Label(std::optional<std::u16string>& label) override {
    label = u"node " + Utf8ToUtf16Lossy(std::to_string(value_));
    return 0;
  }

 private:
  const int32_t value_;
};

using testing::AnonymousCallsStore;

std::unique_ptr<ComRuntime> StartRuntime(std::chrono::milliseconds ping_period = 120s,
                                         std::chrono::milliseconds ping_interval = 120s) {
  ComRuntimeOptions options;
  options.ping_period = ping_period;
  options.ping_interval = ping_interval;
  options.store = AnonymousCallsStore();
  auto rt = ComRuntime::Start(options);
  EXPECT_TRUE(rt.ok()) << rt.status().ToString();
  if (!rt.ok()) return nullptr;
  // Every caller may call these objects (a NULL descriptor, R66), at any
  // level (R71); the machine's restriction still applies (R69).
  CoInitializeSecurityParams cis;
  cis.authn_level = 1;  // RPC_C_AUTHN_LEVEL_NONE
  EXPECT_TRUE((*rt)->InitializeSecurity(cis).ok());
  (*rt)->RegisterInterface(idl::INodeInfo());
  (*rt)->RegisterInterface(idl::ILabelInfo());
  return std::move(*rt);
}

class ComRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartRuntime();
    client_ = StartRuntime();
    ASSERT_TRUE(server_ && client_);
    ASSERT_NE(server_->oxid(), client_->oxid());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    EXPECT_EQ(alive, 0);
  }
  std::vector<uint8_t> Export(int32_t value) {
    ComPtr<Node> node = MakeComObject<Node>(value);
    auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
    EXPECT_TRUE(objref.ok()) << objref.status().ToString();
    return objref.ok() ? *objref : std::vector<uint8_t>{};
  }

  std::unique_ptr<ComRuntime> server_;
  std::unique_ptr<ComRuntime> client_;
};

TEST_F(ComRuntimeTest, UnmarshaledProxyCallsTheObject) {
  auto objref = Export(7);
  auto decoded = DecodeObjref(objref);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->type, OBJREF_STANDARD);
  EXPECT_EQ(decoded->std.public_refs, 5u);  // Windows's count for a normal marshal
  EXPECT_EQ(decoded->std.oxid, server_->oxid());
  EXPECT_EQ(decoded->resolver, server_->resolver_bindings());

  auto node = client_->Unmarshal<INode>(objref);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  int32_t value = 0;
  auto r = (*node)->Value(value);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(value, 7);
  EXPECT_EQ(client_->remote_objects(), 1u);
}

TEST_F(ComRuntimeTest, QueryInterfaceGoesThroughRemQueryInterfaceAndKeepsIdentity) {
  auto node = client_->Unmarshal<INode>(Export(3));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ComPtr<ILabel> label;
  ASSERT_TRUE(node->As(&label).Succeeded());
  std::optional<std::u16string> text;
  ASSERT_TRUE(label->Label(text).ok());
  EXPECT_EQ(text, u"node 3");
  // COM's identity rule across proxies of one object.
  EXPECT_TRUE(SameObject(node->get(), label.get()));
  // An interface the object lacks (IRemUnknown2 has a proxy/stub, the
  // node does not implement it): E_NOINTERFACE from the server.
  void* p = nullptr;
  EXPECT_EQ(label->QueryInterface(idl::IID_IRemUnknown2, &p), E_NOINTERFACE);
  EXPECT_EQ(p, nullptr);
  // One with no proxy/stub here: refused without a round trip.
  const Guid unknown{0x01234567u, 0x89ab, 0xcdef, {1, 2, 3, 4, 5, 6, 7, 8}};
  EXPECT_EQ(label->QueryInterface(unknown, &p), E_NOINTERFACE);
}

TEST_F(ComRuntimeTest, TwoOBJREFsOfOneObjectShareOneProxyManager) {
  ComPtr<Node> node = MakeComObject<Node>(1);
  auto a = server_->MarshalInterface(idl::IID_INode, node->unknown());
  auto b = server_->MarshalInterface(idl::IID_ILabel, node->unknown());
  ASSERT_TRUE(a.ok() && b.ok());
  auto pa = client_->Unmarshal<INode>(*a);
  auto pb = client_->Unmarshal<ILabel>(*b);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_TRUE(SameObject(pa->get(), pb->get()));
  EXPECT_EQ(client_->remote_objects(), 1u);
}

TEST_F(ComRuntimeTest, ReleasingTheLastProxyGivesTheReferencesBack) {
  ComPtr<Node> node = MakeComObject<Node>(9);
  auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(objref.ok());
  auto decoded = DecodeObjref(*objref);
  EXPECT_EQ(server_->exporter().RefsOf(decoded->std.ipid)->first, 5u);
  {
    auto proxy = client_->Unmarshal<INode>(*objref);
    ASSERT_TRUE(proxy.ok());
    int32_t v = 0;
    ASSERT_TRUE((*proxy)->Value(v).ok());
  }
  // RemRelease of the 5 references: the IPID is gone, the object is the
  // test's alone again.
  EXPECT_EQ(client_->remote_objects(), 0u);
  EXPECT_FALSE(server_->exporter().RefsOf(decoded->std.ipid).has_value());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

TEST_F(ComRuntimeTest, ATableStrongOBJREFServesEveryUnmarshalUntilItIsReleased) {
  ComPtr<Node> node = MakeComObject<Node>(4);
  auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown(),
                                          MarshalFlags::kTableStrong);
  ASSERT_TRUE(objref.ok()) << objref.status().ToString();
  auto decoded = DecodeObjref(*objref);
  ASSERT_TRUE(decoded.ok());
  // No references in the OBJREF: each unmarshal asks for its own.
  EXPECT_EQ(decoded->std.public_refs, 0u);
  for (int round = 0; round < 2; ++round) {
    // Another process each time: its proxy's references come and go.
    auto other = StartRuntime();
    ASSERT_TRUE(other);
    auto proxy = other->Unmarshal<INode>(*objref);
    ASSERT_TRUE(proxy.ok()) << "round " << round << ": " << proxy.status().ToString();
    int32_t v = 0;
    ASSERT_TRUE((*proxy)->Value(v).ok());
    EXPECT_EQ(v, 4);
  }
  // Everyone gave their references back; the table hold keeps it.
  EXPECT_EQ(server_->exporter().exported_interfaces(), 1u);
  // Unmarshaled in its own process it is the object itself, still held.
  auto same = server_->Unmarshal<INode>(*objref);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(SameObject(same->get(), node->unknown()));
  EXPECT_EQ(server_->exporter().exported_interfaces(), 1u);
  // CoReleaseMarshalData: the hold goes, and with it the export.
  ASSERT_TRUE(server_->ReleaseMarshalData(*objref).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  auto gone = client_->UnmarshalInterface(*objref, idl::IID_INode);
  ASSERT_FALSE(gone.ok());
  // The new process's RemAddRef for its references finds no such IPID
  // ([MS-DCOM] 3.1.1.5.6.1.2: CO_E_OBJNOTREG).
  EXPECT_EQ(gone.status().code(), CO_E_OBJNOTREG) << gone.status().ToString();
}

TEST_F(ComRuntimeTest, ATableWeakOBJREFDoesNotOutliveItsClientsReferences) {
  ComPtr<Node> node = MakeComObject<Node>(6);
  auto weak = server_->MarshalInterface(idl::IID_INode, node->unknown(),
                                        MarshalFlags::kTableWeak);
  ASSERT_TRUE(weak.ok()) << weak.status().ToString();
  EXPECT_EQ(DecodeObjref(*weak)->std.public_refs, 0u);
  EXPECT_EQ(server_->exporter().exported_interfaces(), 1u);  // recorded, unused
  {
    auto proxy = client_->Unmarshal<INode>(*weak);
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    int32_t v = 0;
    ASSERT_TRUE((*proxy)->Value(v).ok());
    EXPECT_EQ(v, 6);
  }
  // The client's references went, and the weak entry held nothing: gone
  // from the exporter (the object itself is still the test's).
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(alive, 1);
  auto later = client_->UnmarshalInterface(*weak, idl::IID_INode);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), CO_E_OBJNOTREG);
  // Released unused, a weak entry takes its export with it.
  auto unused = server_->MarshalInterface(idl::IID_INode, node->unknown(),
                                          MarshalFlags::kTableWeak);
  ASSERT_TRUE(unused.ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 1u);
  ASSERT_TRUE(server_->ReleaseMarshalData(*unused).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

TEST_F(ComRuntimeTest, AnOBJREFOfThisProcessUnmarshalsToTheObjectItself) {
  ComPtr<Node> node = MakeComObject<Node>(5);
  auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(objref.ok());
  auto same = server_->Unmarshal<ILabel>(*objref);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(SameObject(same->get(), node->unknown()));
  // Its references were given back: nothing stays exported.
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  // Once unmarshaled, the OBJREF names nothing: CO_E_OBJNOTCONNECTED.
  auto again = server_->UnmarshalInterface(*objref, idl::IID_INode);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), CO_E_OBJNOTCONNECTED);
}

TEST_F(ComRuntimeTest, InterfacePointersTravelAsParameters) {
  auto root = client_->Unmarshal<INode>(Export(10));
  ASSERT_TRUE(root.ok());
  // [out]: an object made by the server, unmarshaled into a proxy here.
  ComPtr<INode> child;
  auto r = (*root)->Child(child);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(child);
  int32_t value = 0;
  ASSERT_TRUE(child->Value(value).ok());
  EXPECT_EQ(value, 11);
  // [in]: an object of the client's, called back by the server.
  ComPtr<Node> mine = MakeComObject<Node>(42);
  r = (*root)->Ask(ComPtr<INode>(mine.get()), value);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(value, 42);
  // [in]: the server's own object handed back to it arrives as itself.
  r = (*root)->Ask(child, value);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(value, 11);
}

// Conformance case 40 (R187, R137, R140) on the wire: a caller the
// process's access permission does not grant gets E_ACCESSDENIED and the
// method never runs; one below the process's level too; the server serves
// on.
TEST(ComRuntimeAccess, Case40_RefusedCallersNeverReachTheMethod) {
  for (uint32_t level : {1u, 2u}) {
    ComRuntimeOptions options;
    options.store = AnonymousCallsStore();
    // Over TCP, unauthenticated: the caller is ANONYMOUS LOGON, whom the
    // descriptor does not name (a local caller would be its Unix account).
    options.listen_local = false;
    auto server = ComRuntime::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    (*server)->RegisterInterface(idl::INodeInfo());
    CoInitializeSecurityParams cis;
    cis.authn_level = level;  // NONE: the descriptor refuses; CONNECT: the level does
    cis.sec_desc = CoInitializeSecurityParams::SecDesc::kDescriptor;
    cis.sd = *security::ParseSddl("O:BAG:BAD:(A;;CCDCLC;;;SY)");
    ASSERT_TRUE((*server)->InitializeSecurity(cis).ok());
    auto client = StartRuntime();
    ASSERT_TRUE(client);
    ComPtr<Node> node = MakeComObject<Node>(40);
    auto objref = (*server)->MarshalInterface(idl::IID_INode, node->unknown());
    ASSERT_TRUE(objref.ok()) << objref.status().ToString();
    value_calls = 0;
    {
      auto proxy = client->Unmarshal<INode>(*objref);
      ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
      int32_t value = 0;
      auto r = (*proxy)->Value(value);
      ASSERT_FALSE(r.ok()) << "level " << level;
      EXPECT_EQ(r.status().code(), E_ACCESSDENIED);
    }
    EXPECT_EQ(value_calls, 0);
    // The server still serves: its own process (SELF is not granted, but
    // an object of this process unmarshaled here is the object itself).
    auto self = (*server)->Unmarshal<INode>(*objref);
    ASSERT_TRUE(self.ok());
    int32_t value = 0;
    EXPECT_TRUE((*self)->Value(value).ok());
    EXPECT_EQ(value, 40);
    client.reset();
  }
}

TEST(ComRuntimeThird, AnObjectReturnedByOneProcessIsCalledFromAThird) {
  auto a = StartRuntime();
  auto b = StartRuntime();
  auto c = StartRuntime();
  ASSERT_TRUE(a && b && c);
  {
    ComPtr<Node> node = MakeComObject<Node>(100);
    auto in_a = a->MarshalInterface(idl::IID_INode, node->unknown());
    ASSERT_TRUE(in_a.ok());
    node.reset();
    auto at_b = b->Unmarshal<INode>(*in_a);
    ASSERT_TRUE(at_b.ok()) << at_b.status().ToString();
    // B marshals its proxy: the OBJREF names A's exporter, with references
    // B asked A for.
    auto from_b = b->MarshalInterface(idl::IID_INode, at_b->get());
    ASSERT_TRUE(from_b.ok()) << from_b.status().ToString();
    auto decoded = DecodeObjref(*from_b);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->std.oxid, a->oxid());
    EXPECT_EQ(decoded->resolver, a->resolver_bindings());
    auto at_c = c->Unmarshal<INode>(*from_b);
    ASSERT_TRUE(at_c.ok()) << at_c.status().ToString();
    at_b->reset();  // B lets go; C's references keep the object
    int32_t value = 0;
    auto r = (*at_c)->Value(value);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(value, 100);
  }
  c.reset();
  b.reset();
  EXPECT_EQ(a->exporter().exported_interfaces(), 0u);
  a.reset();
  EXPECT_EQ(alive, 0);
}

TEST_F(ComRuntimeTest, CausalityTravelsThroughNestedCalls) {
  auto root = client_->Unmarshal<INode>(Export(1));
  ASSERT_TRUE(root.ok());
  std::optional<std::u16string> first, second;
  ASSERT_TRUE((*root)->Causality(first).ok());
  ASSERT_TRUE((*root)->Causality(second).ok());
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, u"none");
  EXPECT_NE(*first, *second);  // a new causality per top-level call
}

TEST_F(ComRuntimeTest, CustomAndMalformedOBJREFsAreRefused) {
  Objref custom;
  custom.type = OBJREF_CUSTOM;
  custom.iid = idl::IID_INode;
  custom.clsid = Guid{0x11111111u, 0x2222, 0x3333, {4, 4, 5, 5, 6, 6, 7, 7}};
  custom.custom_data = {1, 2, 3};
  auto r = client_->UnmarshalInterface(EncodeObjref(custom), idl::IID_INode);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), REGDB_E_CLASSNOTREG);
  std::vector<uint8_t> junk = {0x4d, 0x45, 0x4f, 0x57, 1, 0, 0};
  r = client_->UnmarshalInterface(junk, idl::IID_INode);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
}

TEST_F(ComRuntimeTest, AnExporterThatIsGoneIsReported) {
  auto objref = Export(2);
  server_.reset();  // its resolver and exporter go with it
  auto r = client_->UnmarshalInterface(objref, idl::IID_INode);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_S_SERVER_UNAVAILABLE) << r.status().ToString();
}

TEST_F(ComRuntimeTest, ReleaseMarshalDataGivesTheReferencesBack) {
  ComPtr<Node> node = MakeComObject<Node>(4);
  auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(objref.ok());
  ASSERT_TRUE(server_->ReleaseMarshalData(*objref).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  // From another process: RemRelease.
  objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(client_->ReleaseMarshalData(*objref).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(client_->remote_objects(), 0u);
}

// Pinging (case 42's shape): with a 200 ms period an object runs down
// after three missed periods unless its holder pings it.
TEST(ComRuntimePinging, PingsKeepAnObjectAliveAndTheirAbsenceRunsItDown) {
  auto server = StartRuntime(200ms);
  auto pinging = StartRuntime(120s, 50ms);
  auto silent = StartRuntime(120s, 3600s);
  ASSERT_TRUE(server && pinging && silent);
  ComPtr<Node> kept_node = MakeComObject<Node>(1);
  ComPtr<Node> lost_node = MakeComObject<Node>(2);
  auto kept_ref = server->MarshalInterface(idl::IID_INode, kept_node->unknown());
  auto lost_ref = server->MarshalInterface(idl::IID_INode, lost_node->unknown());
  ASSERT_TRUE(kept_ref.ok() && lost_ref.ok());
  kept_node.reset();
  lost_node.reset();
  auto kept = pinging->Unmarshal<INode>(*kept_ref);
  auto lost = silent->Unmarshal<INode>(*lost_ref);
  ASSERT_TRUE(kept.ok() && lost.ok());
  std::this_thread::sleep_for(1000ms);  // 5 periods
  server->HeartbeatNow();
  EXPECT_EQ(server->exporter().exported_interfaces(), 1u);
  int32_t value = 0;
  ASSERT_TRUE((*kept)->Value(value).ok());
  EXPECT_EQ(value, 1);
  // The run-down object's IPID is gone: the call faults as COM's does.
  auto r = (*lost)->Value(value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_DISCONNECTED) << r.status().ToString();
}


// ==== CoInitializeEx / CoUninitialize (com/coinit.h)

TEST_F(ComRuntimeTest, CoInitializeExCountsAndRefusesAnotherMode) {
  std::thread([&] {
    EXPECT_EQ(CoInitializeEx(*server_, COINIT_MULTITHREADED), HResult(0));
    EXPECT_EQ(CoInitializeEx(*server_, COINIT_MULTITHREADED), S_FALSE);
    EXPECT_EQ(CoInitializeEx(*server_, COINIT_APARTMENTTHREADED), RPC_E_CHANGED_MODE);
    EXPECT_EQ(CoInitializeEx(*client_, COINIT_MULTITHREADED), RPC_E_CHANGED_MODE);
    EXPECT_EQ(CurrentApartment(), &server_->exporter().mta());
    CoUninitialize();
    EXPECT_EQ(CurrentApartment(), &server_->exporter().mta());  // one still to balance
    CoUninitialize();
    EXPECT_EQ(CurrentApartment(), nullptr);
    CoUninitialize();  // unbalanced: nothing happens
    EXPECT_EQ(CoInitializeEx(*server_, 0x100), E_INVALIDARG);
    // Balanced, the thread may choose the other mode.
    EXPECT_EQ(CoInitializeEx(*server_, COINIT_APARTMENTTHREADED), HResult(0));
    ASSERT_NE(CurrentApartment(), nullptr);
    EXPECT_EQ(CurrentApartment()->kind(), ApartmentKind::kSta);
    CoUninitialize();
    EXPECT_EQ(CurrentApartment(), nullptr);
  }).join();
  // A thread of the runtime's MTA pool cannot become an STA.
  std::promise<HResult> on_pool;
  server_->exporter().mta().Post(
      [&] { on_pool.set_value(CoInitializeEx(*server_, COINIT_APARTMENTTHREADED)); });
  EXPECT_EQ(on_pool.get_future().get(), RPC_E_CHANGED_MODE);
}

class WhereNode final : public ComObject<INode> {
 public:
  Result<idl::HRESULT> Value(int32_t& value) override {
    where = std::this_thread::get_id();
    value = 99;
    return 0;
  }
  Result<idl::HRESULT> Child(ComPtr<INode>&) override { return 0; }
  Result<idl::HRESULT> Ask(const ComPtr<INode>&, int32_t&) override { return 0; }
  Result<idl::HRESULT> Causality(std::optional<std::u16string>&) override { return 0; }
  std::thread::id where;
};

TEST_F(ComRuntimeTest, AnObjectMarshaledFromAnStaIsCalledOnItsThreadUntilCoUninitialize) {
  ComPtr<WhereNode> node = MakeComObject<WhereNode>();
  std::promise<std::vector<uint8_t>> marshaled;
  std::promise<void> called, uninitialized;
  std::thread::id sta_thread;
  std::thread sta([&] {
    sta_thread = std::this_thread::get_id();
    ASSERT_EQ(CoInitializeEx(*server_, COINIT_APARTMENTTHREADED), HResult(0));
    auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown());
    ASSERT_TRUE(objref.ok());
    marshaled.set_value(*objref);
    auto done = called.get_future();
    // The message loop: calls into the STA run here.
    while (done.wait_for(1ms) != std::future_status::ready) CoPumpPending();
    CoUninitialize();
    uninitialized.set_value();
  });
  auto objref = marshaled.get_future().get();
  auto proxy = client_->Unmarshal<INode>(objref);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  int32_t value = 0;
  auto r = (*proxy)->Value(value);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(value, 99);
  EXPECT_EQ(node->where, sta_thread);
  called.set_value();
  uninitialized.get_future().get();
  sta.join();
  // CoUninitialize disconnected the STA's objects.
  r = (*proxy)->Value(value);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_DISCONNECTED) << r.status().ToString();
}

// ==== CoLockObjectExternal

TEST_F(ComRuntimeTest, AnExternalLockKeepsAnObjectWhateverItsClientsDo) {
  std::vector<uint8_t> objref;
  IUnknown* identity = nullptr;
  {
    ComPtr<Node> node = MakeComObject<Node>(8);
    identity = node->unknown();
    ASSERT_TRUE(server_->LockObjectExternal(identity, true).ok());
    auto made = server_->MarshalInterface(idl::IID_INode, identity);
    ASSERT_TRUE(made.ok());
    objref = *made;
  }  // only the lock and the marshal's references hold it now
  EXPECT_EQ(alive, 1);
  {
    auto proxy = client_->Unmarshal<INode>(objref);
    ASSERT_TRUE(proxy.ok());
    int32_t v = 0;
    ASSERT_TRUE((*proxy)->Value(v).ok());
    EXPECT_EQ(v, 8);
  }  // the client gave its references back: the lock still holds it
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(alive, 1);
  EXPECT_TRUE(server_->LockObjectExternal(identity, true).ok());  // counted
  ASSERT_TRUE(server_->LockObjectExternal(identity, false).ok());
  EXPECT_EQ(alive, 1);
  ASSERT_TRUE(server_->LockObjectExternal(identity, false).ok());
  EXPECT_EQ(alive, 0);  // the last unlock let it go
  ComPtr<Node> other = MakeComObject<Node>(1);
  EXPECT_EQ(server_->LockObjectExternal(other->unknown(), false).code(), E_UNEXPECTED);
  EXPECT_EQ(server_->LockObjectExternal(nullptr, true).code(), E_INVALIDARG);
}

}  // namespace
}  // namespace comsec::com
