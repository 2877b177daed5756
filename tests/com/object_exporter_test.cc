// The object exporter over a real association (issue 13): ORPC calls by
// IPID through generated proxies and stubs, IRemUnknown's reference
// counting, and the refusals: an unknown or disconnected IPID
// (RPC_E_DISCONNECTED), COM 5.8 (case 40: RPC_E_VERSION_MISMATCH), a
// throwing method (case 41: RPC_E_SERVERFAULT) — each with the server
// still serving afterwards.
#include <gtest/gtest.h>

#include <stdexcept>

#include "comsec/base/com_object.h"
#include "comsec/base/hex.h"
#include "../base/captured_log.h"
#include "comsec/com/object_exporter.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/com/orpc_this_that.h"
#include "comsec/rpc/server.h"
#include "exporter_test.h"
#include "iremunknown.h"

namespace comsec::com {
namespace {

using idl::ICounter;
using idl::INamed;

int alive = 0;

class Counter final : public ComObject<ICounter, INamed> {
 public:
  Counter() { ++alive; }
  ~Counter() override { --alive; }
  Result<idl::HRESULT> Add(int32_t n, int32_t& total) override {
    total_ += n;
    total = total_;
    return 0;
  }
  Result<idl::HRESULT> Misbehave(int32_t how) override {
    if (how == 1) throw std::runtime_error("boom");
    return static_cast<idl::HRESULT>(E_ACCESSDENIED.value());
  }
  Result<idl::HRESULT> Name(std::optional<std::u16string>& name) override {
    name = u"counter";
    return 0;
  }

 private:
  std::atomic<int32_t> total_{0};
};

class Nobody final : public ComObject<INamed> {
 public:
  Result<idl::HRESULT> Name(std::optional<std::u16string>& name) override {
    name = u"identity";
    return 0;
  }
};

class ObjectExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectExporterOptions options;
    options.logger = log_.logger();
    exporter_ = std::make_unique<ObjectExporter>(options);
    exporter_->Attach(registry_);
    exporter_->RegisterInterface(idl::INamedInfo());
    server_ = std::make_unique<rpc::Server>(&registry_, rpc::ServerOptions{});
    auto tcp = server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
    tcp_ = *tcp;
  }
  void TearDown() override {
    server_->Stop();
    exporter_.reset();
  }

  std::unique_ptr<OrpcChannel> Channel(const Guid& iid, const Guid& ipid) {
    auto c = rpc::Client::Connect(tcp_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Status s = (*c)->Bind(rpc::SyntaxId{iid, 0, 0});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::make_unique<OrpcChannel>(std::move(*c), ipid, identity_.get());
  }

  CapturedLog log_;
  rpc::InterfaceRegistry registry_;
  std::unique_ptr<ObjectExporter> exporter_;
  std::unique_ptr<rpc::Server> server_;
  rpc::StringBinding tcp_;
  ComPtr<Nobody> identity_ = MakeComObject<Nobody>();
};

TEST_F(ObjectExporterTest, CallsReachTheObjectByIpid) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(exported->oxid, exporter_->oxid());
  EXPECT_NE(exported->oid, 0u);
  auto channel = Channel(idl::IID_ICounter, exported->ipid);
  idl::ICounterProxy proxy(channel.get());
  int32_t total = 0;
  auto r = proxy.Add(5, total);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  ASSERT_TRUE(proxy.Add(7, total).ok());
  EXPECT_EQ(total, 12);
  // The same interface of the same object keeps its IPID; another one
  // gets its own, with the same OID.
  auto again = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  EXPECT_EQ(again->ipid, exported->ipid);
  auto named = exporter_->Export(counter->unknown(), idl::INamedInfo(), 1);
  ASSERT_TRUE(named.ok());
  EXPECT_NE(named->ipid, exported->ipid);
  EXPECT_EQ(named->oid, exported->oid);
  auto named_channel = Channel(idl::IID_INamed, named->ipid);
  idl::INamedProxy named_proxy(named_channel.get());
  std::optional<std::u16string> name;
  ASSERT_TRUE(named_proxy.Name(name).ok());
  EXPECT_EQ(name, u"counter");
}

// The resolver's OXID and OIDs, when it hands them out.
TEST(ObjectExporterIds, OxidAndOidsFromTheResolver) {
  ObjectExporterOptions options;
  options.oxid = 0x1122334455667788;
  uint64_t next = 41;
  options.new_oid = [&next]() -> Result<uint64_t> { return ++next; };
  ObjectExporter exporter(options);
  ComPtr<Counter> a = MakeComObject<Counter>();
  ComPtr<Counter> b = MakeComObject<Counter>();
  auto ea = exporter.Export(a->unknown(), idl::ICounterInfo(), 1);
  auto eb = exporter.Export(b->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(ea.ok() && eb.ok());
  EXPECT_EQ(ea->oxid, 0x1122334455667788u);
  EXPECT_EQ(ea->oid, 42u);
  EXPECT_EQ(eb->oid, 43u);
  options.new_oid = []() -> Result<uint64_t> { return Status(E_OUTOFMEMORY, "full"); };
  ObjectExporter refusing(options);
  auto refused = refusing.Export(a->unknown(), idl::ICounterInfo(), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_OUTOFMEMORY);
  EXPECT_EQ(refusing.exported_interfaces(), 0u);
}

TEST_F(ObjectExporterTest, UnknownAndDisconnectedIpidsAreRpcEDisconnected) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(exported.ok());
  auto stray = Channel(idl::IID_ICounter, *Guid::Parse("11111111-2222-3333-4444-555555555555"));
  idl::ICounterProxy stray_proxy(stray.get());
  int32_t total = 0;
  auto r = stray_proxy.Add(1, total);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), HResult(0x80010108u)) << r.status().ToString();

  auto channel = Channel(idl::IID_ICounter, exported->ipid);
  idl::ICounterProxy proxy(channel.get());
  ASSERT_TRUE(proxy.Add(1, total).ok());
  exporter_->Disconnect(counter->unknown());  // CoDisconnectObject
  EXPECT_EQ(exporter_->exported_interfaces(), 0u);
  r = proxy.Add(1, total);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), HResult(0x80010108u)) << r.status().ToString();
  auto refused = log_.Named("com.call_refused");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[1].hresult, HResult(0x80010108u));
  EXPECT_NE(refused[1].reason.value_or("").find("is not exported"), std::string::npos);
  // The server still serves.
  ComPtr<Counter> other = MakeComObject<Counter>();
  auto second = exporter_->Export(other->unknown(), idl::ICounterInfo(), 1);
  auto fresh = Channel(idl::IID_ICounter, second->ipid);
  idl::ICounterProxy fresh_proxy(fresh.get());
  ASSERT_TRUE(fresh_proxy.Add(2, total).ok());
  EXPECT_EQ(total, 2);
}

TEST_F(ObjectExporterTest, Case41AThrowingMethodIsRpcEServerFault) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  auto channel = Channel(idl::IID_ICounter, exported->ipid);
  idl::ICounterProxy proxy(channel.get());
  auto r = proxy.Misbehave(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), rpc::RPC_E_SERVERFAULT) << r.status().ToString();
  auto threw = log_.Named("com.method_threw");
  ASSERT_EQ(threw.size(), 1u);
  EXPECT_EQ(threw[0].reason.value_or(""), "boom");
  // A method's own failing HRESULT is its result, not a fault.
  r = proxy.Misbehave(2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(static_cast<uint32_t>(*r), E_ACCESSDENIED.value());
  int32_t total = 0;
  ASSERT_TRUE(proxy.Add(3, total).ok());  // still serving, on the same association
  EXPECT_EQ(total, 3);
}

TEST_F(ObjectExporterTest, Case40AHigherComVersionIsRpcEVersionMismatch) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  auto channel = Channel(idl::IID_ICounter, exported->ipid);
  OrpcThis header;
  header.minor = 8;
  std::vector<uint8_t> stub;
  EncodeOrpcThis(header, stub);
  stub.insert(stub.end(), {1, 0, 0, 0});  // Add(1)
  rpc::CallOptions options;
  options.object = exported->ipid;
  auto r = channel->client().Call(options, 3, stub);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_VERSION_MISMATCH) << r.status().ToString();
  header.minor = 1;  // COM 5.1 is served
  EncodeOrpcThis(header, stub);
  stub.insert(stub.end(), {1, 0, 0, 0});
  r = channel->client().Call(options, 3, stub);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToHex(*r), "00000000" "00000000" "01000000" "00000000");
}

// Issue 13's tolerance rules on the wire: ORPCTHIS's flags and reserved
// filler carry anything, a non-NULL empty extension array, and bytes after
// the last [in] parameter — the call is served, and the reply is exact.
TEST_F(ObjectExporterTest, FillersEmptyExtensionsAndTrailingBytesAreTolerated) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(exported.ok());
  auto channel = Channel(idl::IID_ICounter, exported->ipid);
  rpc::CallOptions options;
  options.object = exported->ipid;
  // COMVERSION 5.7, flags 0xFFFFFFFF, reserved1 0xDEADBEEF, a cid, then a
  // unique pointer (non-NULL) to an ORPC_EXTENT_ARRAY of size 0 with a NULL
  // extent array, then Add(2) and 13 bytes nobody asked for.
  std::vector<uint8_t> stub = {5, 0, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xef, 0xbe, 0xad, 0xde};
  for (int i = 0; i < 16; ++i) stub.push_back(static_cast<uint8_t>(0x40 + i));
  stub.insert(stub.end(), {0x00, 0x00, 0x02, 0x00,   // extensions referent
                           0x00, 0x00, 0x00, 0x00,   // size 0
                           0x00, 0x00, 0x00, 0x00,   // reserved
                           0x00, 0x00, 0x00, 0x00,   // extent[] NULL
                           0x02, 0x00, 0x00, 0x00}); // Add(2)
  for (int i = 0; i < 13; ++i) stub.push_back(0xAA);
  auto r = channel->client().Call(options, 3, stub);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // ORPCTHAT (flags 0, no extensions), total 2, S_OK.
  EXPECT_EQ(ToHex(*r), "00000000" "00000000" "02000000" "00000000");
  // And the server goes on serving well-formed calls.
  idl::ICounterProxy proxy(channel.get());
  int32_t total = 0;
  ASSERT_TRUE(proxy.Add(3, total).ok());
  EXPECT_EQ(total, 5);
}

TEST_F(ObjectExporterTest, RemUnknownQueriesCountsAndClampsReleases) {
  ComPtr<Counter> counter = MakeComObject<Counter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 5);
  counter.reset();  // the exporter's reference keeps it alive
  EXPECT_EQ(alive, 1);
  auto rem_channel = Channel(idl::IID_IRemUnknown2, exporter_->rem_unknown_ipid());
  idl::IRemUnknown2Proxy rem(rem_channel.get());

  std::optional<std::vector<idl::REMQIRESULT>> results;
  auto r = rem.RemQueryInterface(exported->ipid, 2, 2, {idl::IID_INamed, idl::IID_IRemUnknown},
                                 results);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(results && results->size() == 2);
  EXPECT_EQ((*results)[0].hResult, 0);
  EXPECT_EQ((*results)[0].std.oid, exported->oid);
  EXPECT_EQ((*results)[0].std.cPublicRefs, 2u);
  EXPECT_EQ(static_cast<uint32_t>((*results)[1].hResult), E_NOINTERFACE.value());
  const Guid named = (*results)[0].std.ipid;

  std::vector<idl::HRESULT> add_results;
  // Private references need an authenticated caller (R48; SecureRefs
  // tests): this unauthenticated one gets none, and nothing changes.
  auto refused = rem.RemAddRef(1, {{exported->ipid, 3, 1}}, add_results);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(static_cast<uint32_t>(*refused), E_ACCESSDENIED.value());
  ASSERT_EQ(add_results.size(), 1u);
  EXPECT_EQ(static_cast<uint32_t>(add_results[0]), E_ACCESSDENIED.value());
  EXPECT_EQ(exporter_->RefsOf(exported->ipid), std::make_pair(5u, 0u));
  ASSERT_EQ(log_.Named("com.private_refs_refused").size(), 1u);
  // [MS-DCOM] 3.1.1.5.6.1.2: an IPID not exported is CO_E_OBJNOTREG in its
  // own entry; the others are granted.
  const Guid stray = *Guid::Parse("11111111-2222-3333-4444-555555555555");
  auto added = rem.RemAddRef(2, {{stray, 1, 0}, {exported->ipid, 3, 0}}, add_results);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(static_cast<uint32_t>(*added), CO_E_OBJNOTREG.value());
  ASSERT_EQ(add_results.size(), 2u);
  EXPECT_EQ(static_cast<uint32_t>(add_results[0]), CO_E_OBJNOTREG.value());
  EXPECT_EQ(add_results[1], 0);
  EXPECT_EQ(exporter_->RefsOf(exported->ipid), std::make_pair(8u, 0u));
  // Case 45: releasing far more than is held clamps at zero, never wraps;
  // with no private references held the IPID goes.
  ASSERT_TRUE(rem.RemRelease(1, {{exported->ipid, 1000, 0}}).ok());
  EXPECT_FALSE(exporter_->RefsOf(exported->ipid).has_value());
  EXPECT_EQ(alive, 1);  // INamed still holds the object
  ASSERT_TRUE(rem.RemRelease(1, {{named, 2, 0}}).ok());
  EXPECT_EQ(alive, 0);  // the last reference went with the last IPID
  auto gone = Channel(idl::IID_ICounter, exported->ipid);
  idl::ICounterProxy proxy(gone.get());
  int32_t total = 0;
  EXPECT_EQ(proxy.Add(1, total).status().code(), HResult(0x80010108u));
}

}  // namespace
}  // namespace comsec::com
