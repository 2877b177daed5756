// The rest of issue 13's marshaling model, between runtimes of one test
// process talking MS-DCOM as processes would:
//   * MSHCTX: what an OBJREF carries for each destination context, an
//     MSHCTX_LOCAL one resolved and pinged over the resolver's ncalrpc
//     endpoint, the in-process ones carrying no address, unknown contexts
//     refused (E_INVALIDARG), CoGetMarshalSizeMax exact;
//   * CoGetStandardMarshal: IMarshal's six methods delegating to the
//     runtime;
//   * table marshaling of a proxy, as Windows NT does it (Wine's ole32
//     tests test_proxy_marshal_and_unmarshal_strong/_weak, run on Windows,
//     pin it): TABLESTRONG keeps the object past its proxy until
//     CoReleaseMarshalData; TABLEWEAK does not, and an unmarshal after the
//     proxy went is CO_E_OBJNOTREG;
//   * IClassFactory on the wire: the hello example's class object marshaled,
//     CreateInstance called from another runtime, aggregation refused with
//     CLASS_E_NOAGGREGATION.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "comsec/base/com_object.h"
#include "comsec/base/utf16.h"
#include "comsec/com/class_factory.h"
#include "comsec/com/com_runtime.h"
#include "comsec/com/oxid_resolver_service.h"
#include "comsec/com/standard_marshal.h"
#include "../rpc/local_test_support.h"
#include "com_test_support.h"
#include "hello_object.h"
#include "runtime_test.h"

namespace comsec::com {
namespace {

using idl::INode;
using namespace std::chrono_literals;

std::atomic<int> alive{0};

class Node final : public ComObject<INode> {
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
  Result<idl::HRESULT> Ask(const ComPtr<INode>&, int32_t&) override { return 0; }
  Result<idl::HRESULT> Causality(std::optional<std::u16string>&) override { return 0; }

 private:
  const int32_t value_;
};

using testing::AnonymousCallsStore;  // unauthenticated TCP callers may execute

std::unique_ptr<ComRuntime> StartRuntime(bool listen_local = true) {
  ComRuntimeOptions options;
  options.store = AnonymousCallsStore();
  options.listen_local = listen_local;
  auto rt = ComRuntime::Start(options);
  EXPECT_TRUE(rt.ok()) << rt.status().ToString();
  if (!rt.ok()) return nullptr;
  // Every caller may call (a NULL descriptor, R66) at any level (R71).
  CoInitializeSecurityParams cis;
  cis.authn_level = 1;  // RPC_C_AUTHN_LEVEL_NONE
  EXPECT_TRUE((*rt)->InitializeSecurity(cis).ok());
  (*rt)->RegisterInterface(idl::INodeInfo());
  (*rt)->RegisterInterface(idl::IComsecHelloInfo());
  return std::move(*rt);
}

int32_t ValueOf(INode* node) {
  int32_t v = -1;
  auto r = node->Value(v);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return v;
}

// The proxy manager behind a proxy (the runtime's private IID).
RemoteObject* ManagerOf(IUnknown* proxy) {
  void* p = nullptr;
  if (proxy->QueryInterface(kIidRemoteObject, &p).Failed()) return nullptr;
  auto* remote = static_cast<RemoteObject*>(static_cast<IUnknown*>(p));
  remote->Release();  // the caller's proxy keeps it
  return remote;
}

class MarshalingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartRuntime();
    client_ = StartRuntime();
    ASSERT_TRUE(server_ && client_);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    EXPECT_EQ(alive, 0);
  }
  std::string LocalSocketOf(const ComRuntime& rt) {
    for (const rpc::StringBinding& b : rt.endpoints()) {
      if (b.IsLocal()) return rpc::LocalEndpointPath(b.endpoint);
    }
    return "";
  }

  std::unique_ptr<ComRuntime> server_;
  std::unique_ptr<ComRuntime> client_;
};

// ==== MSHCTX =================================================================

// IUnknown travels as the object's identity (what Windows clients
// activate asking for): no methods of its own on the wire, its QI is
// IRemUnknown's.
TEST_F(MarshalingTest, IUnknownIsMarshaledAndItsQueryInterfaceReachesTheObject) {
  ComPtr<Node> node = MakeComObject<Node>(5);
  auto objref = server_->MarshalInterface(IID_IUnknown, node->unknown());
  ASSERT_TRUE(objref.ok()) << objref.status().ToString();
  auto decoded = DecodeObjref(*objref);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->iid, IID_IUnknown);
  auto unknown = client_->UnmarshalInterface(*objref, IID_IUnknown);
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  void* raw = nullptr;
  ASSERT_TRUE((*unknown)->QueryInterface(idl::IID_INode, &raw).Succeeded());
  ComPtr<INode> as_node = ComPtr<INode>::Adopt(static_cast<INode*>(raw));
  int32_t v = 0;
  auto r = as_node->Value(v);
  ASSERT_TRUE(r.ok() && *r == 0) << r.status().ToString();
  EXPECT_EQ(v, 5);
}

TEST_F(MarshalingTest, DifferentMachineIsTheDefaultAndCarriesTheTcpBindings) {
  ComPtr<Node> node = MakeComObject<Node>(1);
  auto by_default = server_->MarshalInterface(idl::IID_INode, node->unknown());
  auto explicit_ctx = server_->MarshalInterface(idl::IID_INode, node->unknown(),
                                                MarshalFlags::kNormal, MSHCTX_DIFFERENTMACHINE);
  ASSERT_TRUE(by_default.ok() && explicit_ctx.ok());
  for (const auto* bytes : {&*by_default, &*explicit_ctx}) {
    auto decoded = DecodeObjref(*bytes);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->resolver, server_->resolver_bindings());
    ASSERT_FALSE(decoded->resolver.strings.empty());
    for (const auto& s : decoded->resolver.strings) EXPECT_EQ(s.tower_id, kTowerIdTcp);
  }
  ASSERT_TRUE(server_->ReleaseMarshalData(*by_default).ok());
  ASSERT_TRUE(server_->ReleaseMarshalData(*explicit_ctx).ok());
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
}

TEST_F(MarshalingTest, ALocalOBJREFNamesOnlyTheNcalrpcResolverAndIsResolvedAndPingedOverIt) {
  const std::string socket = LocalSocketOf(*server_);
  ASSERT_FALSE(socket.empty());
  ComPtr<Node> node = MakeComObject<Node>(7);
  for (uint32_t ctx : {MSHCTX_LOCAL, MSHCTX_NOSHAREDMEM}) {
    auto objref =
        server_->MarshalInterface(idl::IID_INode, node->unknown(), MarshalFlags::kNormal, ctx);
    ASSERT_TRUE(objref.ok()) << objref.status().ToString();
    auto decoded = DecodeObjref(*objref);
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(decoded->resolver.strings.size(), 1u) << "context " << ctx;
    EXPECT_EQ(decoded->resolver.strings[0].tower_id, kTowerIdNcalrpc);
    EXPECT_EQ(Utf16ToUtf8Lossy(decoded->resolver.strings[0].address), socket);
    EXPECT_EQ(decoded->resolver.security, server_->resolver_bindings().security);
    // Another process on this machine resolves it over the socket.
    auto other = StartRuntime();
    ASSERT_TRUE(other);
    auto proxy = other->Unmarshal<INode>(*objref);
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    EXPECT_EQ(ValueOf(proxy->get()), 7);
    RemoteObject* manager = ManagerOf(proxy->get());
    ASSERT_NE(manager, nullptr);
    EXPECT_EQ(manager->remote_oxid().ping_binding, "ncalrpc:[" + socket + "]");
    other->PingNow();  // a ping over ncalrpc reaches the resolver: the object stays
    server_->HeartbeatNow();
    EXPECT_EQ(ValueOf(proxy->get()), 7);
  }
}

// A process using the machine's resolver (comsecd's, served here in-process
// on TCP and ncalrpc as comsecd serves it): its LOCAL OBJREFs name the
// resolver's ncalrpc endpoint, where a local client resolves the OXID.
TEST_F(MarshalingTest, ALocalOBJREFOfAProcessUsingTheMachinesResolverNamesItsNcalrpcEndpoint) {
  rpc::testing::TempDir dir(0755);
  OxidResolver machine(OxidResolverOptions{});
  rpc::InterfaceRegistry registry;
  registry.Register(ObjectExporterInterface(&machine));
  registry.Register(OxidRegistrationInterface(&machine, nullptr));
  rpc::Server server(&registry, rpc::ServerOptions{});
  auto tcp = server.Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  auto local = server.Listen(*rpc::StringBinding::Parse("ncalrpc:[" + dir.path() + "/comsecd]"));
  ASSERT_TRUE(tcp.ok() && local.ok());
  OxidBindings own;
  own.strings = {{kTowerIdTcp, Utf8ToUtf16Lossy("127.0.0.1[" + tcp->endpoint + "]")}};
  machine.SetOwnBindings(own);

  ComRuntimeOptions options;
  options.store = AnonymousCallsStore();
  options.resolver = local->ToString();
  auto exporting = ComRuntime::Start(options);
  ASSERT_TRUE(exporting.ok()) << exporting.status().ToString();
  CoInitializeSecurityParams cis;
  cis.authn_level = 1;
  ASSERT_TRUE((*exporting)->InitializeSecurity(cis).ok());
  (*exporting)->RegisterInterface(idl::INodeInfo());
  ComPtr<Node> node = MakeComObject<Node>(13);
  auto objref = (*exporting)->MarshalInterface(idl::IID_INode, node->unknown(),
                                               MarshalFlags::kNormal, MSHCTX_LOCAL);
  ASSERT_TRUE(objref.ok()) << objref.status().ToString();
  auto decoded = DecodeObjref(*objref);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->resolver.strings.size(), 1u);
  EXPECT_EQ(decoded->resolver.strings[0].tower_id, kTowerIdNcalrpc);
  EXPECT_EQ(Utf16ToUtf8Lossy(decoded->resolver.strings[0].address), dir.path() + "/comsecd");
  // Remote OBJREFs still name the machine's TCP resolver.
  EXPECT_EQ((*exporting)->resolver_bindings().strings, own.strings);
  {
    auto proxy = client_->Unmarshal<INode>(*objref);
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    EXPECT_EQ(ValueOf(proxy->get()), 13);
  }
  exporting->reset();
  server.Stop();
}

TEST_F(MarshalingTest, ALocalOBJREFTakenToAnotherMachineCannotBeResolved) {
  ComPtr<Node> node = MakeComObject<Node>(3);
  auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown(),
                                          MarshalFlags::kNormal, MSHCTX_LOCAL);
  ASSERT_TRUE(objref.ok());
  // Elsewhere the socket's directory does not exist.
  auto decoded = DecodeObjref(*objref);
  ASSERT_TRUE(decoded.ok());
  decoded->resolver.strings[0].address = u"/nonexistent-comsec-dir/com-1-0000000000000001";
  auto r = client_->UnmarshalInterface(EncodeObjref(*decoded), idl::IID_INode);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_S_SERVER_UNAVAILABLE) << r.status().ToString();
  // The server still serves, locally and remotely.
  ASSERT_TRUE(server_->ReleaseMarshalData(*objref).ok());
  auto remote = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(remote.ok());
  auto proxy = client_->Unmarshal<INode>(*remote);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_EQ(ValueOf(proxy->get()), 3);
}

TEST_F(MarshalingTest, WithoutALocalEndpointALocalOBJREFCarriesTheTcpBindings) {
  auto tcp_only = StartRuntime(/*listen_local=*/false);
  ASSERT_TRUE(tcp_only);
  ComPtr<Node> node = MakeComObject<Node>(5);
  auto objref = tcp_only->MarshalInterface(idl::IID_INode, node->unknown(),
                                           MarshalFlags::kNormal, MSHCTX_LOCAL);
  ASSERT_TRUE(objref.ok());
  EXPECT_EQ(DecodeObjref(*objref)->resolver, tcp_only->resolver_bindings());
  auto proxy = client_->Unmarshal<INode>(*objref);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  EXPECT_EQ(ValueOf(proxy->get()), 5);
  proxy->reset();
  client_.reset();  // its references go back before tcp_only stops
}

TEST_F(MarshalingTest, InprocAndCrossCtxOBJREFsCarryNoAddressAndUnmarshalHereToTheObject) {
  ComPtr<Node> node = MakeComObject<Node>(9);
  for (uint32_t ctx : {MSHCTX_INPROC, MSHCTX_CROSSCTX}) {
    auto objref =
        server_->MarshalInterface(idl::IID_INode, node->unknown(), MarshalFlags::kNormal, ctx);
    ASSERT_TRUE(objref.ok()) << objref.status().ToString();
    auto decoded = DecodeObjref(*objref);
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(decoded->resolver.strings.empty()) << "context " << ctx;
    EXPECT_EQ(decoded->std.public_refs, 5u);
    // Another process cannot find its exporter...
    auto elsewhere = client_->UnmarshalInterface(*objref, idl::IID_INode);
    ASSERT_FALSE(elsewhere.ok());
    EXPECT_EQ(elsewhere.status().code(), RPC_S_SERVER_UNAVAILABLE)
        << elsewhere.status().ToString();
    // ...this one gets the object itself, and the references go back.
    auto here = server_->Unmarshal<INode>(*objref);
    ASSERT_TRUE(here.ok()) << here.status().ToString();
    EXPECT_TRUE(SameObject(here->get(), node->unknown()));
    EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  }
}

TEST_F(MarshalingTest, AnUnknownDestinationContextIsInvalidArgAndExportsNothing) {
  ComPtr<Node> node = MakeComObject<Node>(1);
  for (uint32_t ctx : {5u, 0xFFFFFFFFu}) {  // MSHCTX_CONTAINER, garbage
    auto r = server_->MarshalInterface(idl::IID_INode, node->unknown(), MarshalFlags::kNormal,
                                       ctx);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    auto size = server_->GetMarshalSizeMax(idl::IID_INode, node->unknown(),
                                           MarshalFlags::kNormal, ctx);
    ASSERT_FALSE(size.ok());
    EXPECT_EQ(size.status().code(), E_INVALIDARG);
    EXPECT_EQ(server_->ResolverBindingsFor(ctx).status().code(), E_INVALIDARG);
  }
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  // The runtime still marshals.
  auto ok = server_->MarshalInterface(idl::IID_INode, node->unknown());
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(server_->ReleaseMarshalData(*ok).ok());
}

TEST_F(MarshalingTest, GetMarshalSizeMaxIsTheSizeOfTheOBJREFWritten) {
  ComPtr<Node> node = MakeComObject<Node>(2);
  for (uint32_t ctx : {MSHCTX_LOCAL, MSHCTX_NOSHAREDMEM, MSHCTX_DIFFERENTMACHINE, MSHCTX_INPROC,
                       MSHCTX_CROSSCTX}) {
    for (MarshalFlags flags : {MarshalFlags::kNormal, MarshalFlags::kTableStrong}) {
      auto size = server_->GetMarshalSizeMax(idl::IID_INode, node->unknown(), flags, ctx);
      ASSERT_TRUE(size.ok()) << size.status().ToString();
      auto objref = server_->MarshalInterface(idl::IID_INode, node->unknown(), flags, ctx);
      ASSERT_TRUE(objref.ok());
      EXPECT_EQ(*size, objref->size()) << "context " << ctx;
      ASSERT_TRUE(server_->ReleaseMarshalData(*objref).ok());
    }
  }
  // A proxy's OBJREF names its object's exporter.
  auto proxy = client_->Unmarshal<INode>(*server_->MarshalInterface(idl::IID_INode, node->unknown()));
  ASSERT_TRUE(proxy.ok());
  auto size = client_->GetMarshalSizeMax(idl::IID_INode, proxy->get());
  auto again = client_->MarshalInterface(idl::IID_INode, proxy->get());
  ASSERT_TRUE(size.ok() && again.ok());
  EXPECT_EQ(*size, again->size());
  ASSERT_TRUE(client_->ReleaseMarshalData(*again).ok());
  // An interface without a proxy/stub, and one the object lacks.
  const Guid unregistered{0x01234567u, 0x89ab, 0xcdef, {1, 2, 3, 4, 5, 6, 7, 8}};
  EXPECT_EQ(server_->GetMarshalSizeMax(unregistered, node->unknown()).status().code(),
            E_NOINTERFACE);
  EXPECT_EQ(server_->GetMarshalSizeMax(idl::IID_IComsecHello, node->unknown()).status().code(),
            E_NOINTERFACE);
  EXPECT_EQ(server_->GetMarshalSizeMax(idl::IID_INode, nullptr).status().code(), E_INVALIDARG);
}

// ==== CoGetStandardMarshal ===================================================

TEST_F(MarshalingTest, TheStandardMarshalerIsClsidStdMarshalAndMarshalsItsObject) {
  ComPtr<Node> node = MakeComObject<Node>(11);
  auto marshal = CoGetStandardMarshal(*server_, idl::IID_INode, node->unknown(), MSHCTX_LOCAL,
                                      MarshalFlags::kNormal);
  ASSERT_TRUE(marshal.ok()) << marshal.status().ToString();
  ComPtr<IMarshal> again;
  ASSERT_TRUE(marshal->As(&again).Succeeded());  // it answers IID_IMarshal
  auto clsid = (*marshal)->GetUnmarshalClass(idl::IID_INode, node->unknown(), MSHCTX_LOCAL,
                                              MarshalFlags::kNormal);
  ASSERT_TRUE(clsid.ok());
  EXPECT_EQ(*clsid, CLSID_StdMarshal);
  EXPECT_EQ(clsid->ToString(), "00000017-0000-0000-c000-000000000046");
  // A null interface pointer marshals the bound object.
  auto size = (*marshal)->GetMarshalSizeMax(idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                            MarshalFlags::kNormal);
  auto objref = (*marshal)->MarshalInterface(idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                             MarshalFlags::kNormal);
  ASSERT_TRUE(size.ok() && objref.ok()) << objref.status().ToString();
  EXPECT_EQ(*size, objref->size());
  EXPECT_EQ(DecodeObjref(*objref)->resolver.strings[0].tower_id, kTowerIdNcalrpc);
  // The other side's standard marshaler, made for no object, unmarshals.
  auto reader = CoGetStandardMarshal(*client_, idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                     MarshalFlags::kNormal);
  ASSERT_TRUE(reader.ok());
  auto proxy = (*reader)->UnmarshalInterface(*objref, idl::IID_INode);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  ComPtr<INode> node_proxy;
  ASSERT_TRUE(proxy->As(&node_proxy).Succeeded());
  EXPECT_EQ(ValueOf(node_proxy.get()), 11);
  // ReleaseMarshalData gives an unused OBJREF's references back.
  auto unused = (*marshal)->MarshalInterface(idl::IID_INode, node->unknown(),
                                             MSHCTX_DIFFERENTMACHINE, MarshalFlags::kNormal);
  ASSERT_TRUE(unused.ok());
  const auto ipid = DecodeObjref(*unused)->std.ipid;
  EXPECT_EQ(server_->exporter().RefsOf(ipid)->first, 10u);  // the proxy's 5 and these 5
  ASSERT_TRUE((*reader)->ReleaseMarshalData(*unused).ok());  // from the other process
  EXPECT_EQ(server_->exporter().RefsOf(ipid)->first, 5u);
  // DisconnectObject: CoDisconnectObject of the bound object.
  EXPECT_EQ((*marshal)->DisconnectObject(1).code(), E_INVALIDARG);
  EXPECT_EQ(ValueOf(node_proxy.get()), 11);  // still connected
  ASSERT_TRUE((*marshal)->DisconnectObject(0).ok());
  int32_t v = 0;
  auto r = node_proxy->Value(v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_DISCONNECTED) << r.status().ToString();
}

TEST_F(MarshalingTest, AStandardMarshalerForNoObjectHasNothingToMarshal) {
  auto marshal = CoGetStandardMarshal(*server_, idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                      MarshalFlags::kNormal);
  ASSERT_TRUE(marshal.ok());
  auto r = (*marshal)->MarshalInterface(idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                        MarshalFlags::kNormal);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
  EXPECT_EQ((*marshal)->GetMarshalSizeMax(idl::IID_INode, nullptr, MSHCTX_LOCAL,
                                          MarshalFlags::kNormal)
                .status()
                .code(),
            E_INVALIDARG);
  EXPECT_TRUE((*marshal)->DisconnectObject(0).ok());  // nothing bound, nothing to do
  EXPECT_EQ((*marshal)->GetUnmarshalClass(idl::IID_INode, nullptr, 9, MarshalFlags::kNormal)
                .status()
                .code(),
            E_INVALIDARG);
  auto bad = CoGetStandardMarshal(*server_, idl::IID_INode, nullptr, 9, MarshalFlags::kNormal);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), E_INVALIDARG);
}

// ==== Table marshaling of a proxy ============================================

TEST_F(MarshalingTest, TableStrongMarshalOfAProxyKeepsTheObjectUntilReleaseMarshalData) {
  std::vector<uint8_t> table;
  {
    // The client holds a proxy; it marshals the proxy table-strong.
    auto proxy = client_->Unmarshal<INode>(
        *server_->MarshalInterface(idl::IID_INode, MakeComObject<Node>(22)->unknown()));
    ASSERT_TRUE(proxy.ok());
    auto made = client_->MarshalInterface(idl::IID_INode, proxy->get(),
                                          MarshalFlags::kTableStrong);
    ASSERT_TRUE(made.ok()) << made.status().ToString();  // S_OK, as Windows NT
    table = *made;
    auto decoded = DecodeObjref(table);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->std.oxid, server_->oxid());  // the object's own exporter
    EXPECT_EQ(decoded->std.public_refs, 0u);        // each unmarshal asks for its own
    EXPECT_EQ(client_->proxy_table_holds(), 1u);
  }  // the client's proxy is released: the table hold keeps the object
  EXPECT_EQ(client_->remote_objects(), 1u);
  for (int round = 0; round < 2; ++round) {
    auto third = StartRuntime();
    ASSERT_TRUE(third);
    auto proxy = third->Unmarshal<INode>(table);
    ASSERT_TRUE(proxy.ok()) << "round " << round << ": " << proxy.status().ToString();
    EXPECT_EQ(ValueOf(proxy->get()), 22);
  }
  // In the marshaling process itself too.
  {
    auto proxy = client_->Unmarshal<INode>(table);
    ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
    EXPECT_EQ(ValueOf(proxy->get()), 22);
  }
  EXPECT_EQ(server_->exporter().exported_interfaces(), 1u);
  // CoReleaseMarshalData: the hold goes, and with the proxy its references.
  ASSERT_TRUE(client_->ReleaseMarshalData(table).ok());
  EXPECT_EQ(client_->proxy_table_holds(), 0u);
  EXPECT_EQ(client_->remote_objects(), 0u);
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(alive, 0);
  auto gone = StartRuntime()->UnmarshalInterface(table, idl::IID_INode);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), CO_E_OBJNOTREG) << gone.status().ToString();
  // Released again: nothing is held, nothing happens.
  EXPECT_TRUE(client_->ReleaseMarshalData(table).ok());
}

TEST_F(MarshalingTest, TableWeakMarshalOfAProxyDoesNotKeepTheObject) {
  std::vector<uint8_t> weak;
  {
    auto proxy = client_->Unmarshal<INode>(
        *server_->MarshalInterface(idl::IID_INode, MakeComObject<Node>(31)->unknown()));
    ASSERT_TRUE(proxy.ok());
    auto made =
        client_->MarshalInterface(idl::IID_INode, proxy->get(), MarshalFlags::kTableWeak);
    ASSERT_TRUE(made.ok()) << made.status().ToString();  // S_OK, as Windows
    weak = *made;
    EXPECT_EQ(DecodeObjref(weak)->std.public_refs, 0u);
    EXPECT_EQ(client_->proxy_table_holds(), 0u);
    // While the proxy lives, the data unmarshals elsewhere.
    auto third = StartRuntime();
    ASSERT_TRUE(third);
    auto other = third->Unmarshal<INode>(weak);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    EXPECT_EQ(ValueOf(other->get()), 31);
  }  // the proxies go, and with them the object's last references
  EXPECT_EQ(server_->exporter().exported_interfaces(), 0u);
  EXPECT_EQ(alive, 0);
  // Windows: CO_E_OBJNOTREG once the original proxy is released.
  auto later = client_->UnmarshalInterface(weak, idl::IID_INode);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), CO_E_OBJNOTREG) << later.status().ToString();
  EXPECT_TRUE(client_->ReleaseMarshalData(weak).ok());  // nothing held
}

// ==== IClassFactory on the wire ==============================================

TEST_F(MarshalingTest, TheHelloClassObjectCreatesObjectsForAnotherRuntime) {
  ComPtr<examples::ComsecHelloFactory> factory =
      MakeComObject<examples::ComsecHelloFactory>(u"srv");
  auto objref = server_->MarshalInterface(idl::IID_IClassFactory, factory->unknown());
  ASSERT_TRUE(objref.ok()) << objref.status().ToString();
  auto class_object = client_->Unmarshal<idl::IClassFactory>(*objref);
  ASSERT_TRUE(class_object.ok()) << class_object.status().ToString();
  auto made = ClassFactoryCreateInstance(class_object->get(), nullptr, idl::IID_IComsecHello);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ComPtr<idl::IComsecHello> hello;
  ASSERT_TRUE(made->As(&hello).Succeeded());
  std::optional<std::u16string> greeting;
  auto r = hello->Greet(u"ann", greeting);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(greeting, u"Hello, ann, from srv");
  // A new object each time, in the server (another proxy manager here).
  auto second = ClassFactoryCreateInstance(class_object->get(), nullptr, idl::IID_IComsecHello);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(SameObject(made->get(), second->get()));
  // LockServer travels as RemoteLockServer.
  ASSERT_TRUE(ClassFactoryLockServer(class_object->get(), true).ok());
  EXPECT_EQ(factory->locks(), 1);
  ASSERT_TRUE(ClassFactoryLockServer(class_object->get(), false).ok());
  EXPECT_EQ(factory->locks(), 0);
}

TEST_F(MarshalingTest, CreateInstanceThroughAClassObjectProxyRefusesAggregation) {
  ComPtr<examples::ComsecHelloFactory> factory =
      MakeComObject<examples::ComsecHelloFactory>(u"srv");
  auto class_object = client_->Unmarshal<idl::IClassFactory>(
      *server_->MarshalInterface(idl::IID_IClassFactory, factory->unknown()));
  ASSERT_TRUE(class_object.ok());
  ComPtr<Node> outer = MakeComObject<Node>(0);
  auto aggregated =
      ClassFactoryCreateInstance(class_object->get(), outer->unknown(), idl::IID_IComsecHello);
  ASSERT_FALSE(aggregated.ok());
  EXPECT_EQ(aggregated.status().code(), CLASS_E_NOAGGREGATION);
  // The same for a class object of this process.
  aggregated = ClassFactoryCreateInstance(factory->unknown(), outer->unknown(),
                                          idl::IID_IComsecHello);
  ASSERT_FALSE(aggregated.ok());
  EXPECT_EQ(aggregated.status().code(), CLASS_E_NOAGGREGATION);
  // An interface the new object lacks (INode has a proxy/stub): the
  // server's E_NOINTERFACE over the wire.
  auto lacking = ClassFactoryCreateInstance(class_object->get(), nullptr, idl::IID_INode);
  ASSERT_FALSE(lacking.ok());
  EXPECT_EQ(lacking.status().code(), E_NOINTERFACE) << lacking.status().ToString();
  // Not a class object; no object.
  auto node = client_->Unmarshal<INode>(
      *server_->MarshalInterface(idl::IID_INode, outer->unknown()));
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(ClassFactoryCreateInstance(node->get(), nullptr, idl::IID_IComsecHello)
                .status()
                .code(),
            E_NOINTERFACE);
  EXPECT_EQ(ClassFactoryCreateInstance(nullptr, nullptr, idl::IID_IComsecHello).status().code(),
            E_INVALIDARG);
  // The class object still serves.
  auto made = ClassFactoryCreateInstance(class_object->get(), nullptr, idl::IID_IComsecHello);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
}

}  // namespace
}  // namespace comsec::com
