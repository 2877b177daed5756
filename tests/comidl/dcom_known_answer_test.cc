// Known answers for the MS-DCOM stubs: real captures (tests/data/dcom/) are
// decoded by the code comidl generates from idl/ms-dcom/, every field is
// checked against the independent oracle (tests/data/comidl/*.json), and the
// values re-encoded must give the oracle's canonical_hex (referent ids masked
// at the oracle's offsets). Requests are decoded by the generated server
// stubs (InterfaceRegistration); responses with the generated type decoders
// in the order the generated proxy reads them, and re-encoded by the
// generated server stubs.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "comsec/base/hex.h"
#include "iobjectexporter.h"

namespace comsec::idl {
namespace {

using nlohmann::json;

json Oracle(const std::string& name) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/comidl/" + name + ".json");
  EXPECT_TRUE(in.good()) << name;
  return json::parse(in);
}

std::vector<uint8_t> Fixture(const json& oracle) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/dcom/" +
                   oracle["fixture"].get<std::string>());
  std::string hex;
  in >> hex;
  auto bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok());
  // The fixture file and the oracle describe the same bytes.
  EXPECT_EQ(hex, oracle["hex"].get<std::string>());
  EXPECT_EQ(bytes->size(), oracle["length"].get<size_t>());
  return *bytes;
}

// The bytes with every referent id the oracle lists zeroed: an encoder may
// choose other ids than the capture's.
std::string Masked(std::vector<uint8_t> bytes, const json& oracle) {
  for (const auto& r : oracle["referent_ids"]) {
    size_t off = r["offset"].get<size_t>();
    if (off + 4 <= bytes.size()) std::fill_n(bytes.begin() + static_cast<ptrdiff_t>(off), 4, 0);
  }
  return ToHex(bytes);
}

std::string Canonical(const json& oracle) {
  return Masked(*FromHex(oracle["canonical_hex"].get<std::string>()), oracle);
}

Guid G(const json& v) {
  auto g = Guid::Parse(v.get<std::string>());
  EXPECT_TRUE(g.ok()) << v;
  return g.ok() ? *g : Guid{};
}

void ExpectDualStringArray(const DUALSTRINGARRAY& got, const json& want) {
  EXPECT_EQ(got.wNumEntries, want["wNumEntries"].get<uint16_t>());
  EXPECT_EQ(got.wSecurityOffset, want["wSecurityOffset"].get<uint16_t>());
  EXPECT_EQ(got.aStringArray, want["aStringArray"].get<std::vector<uint16_t>>());
}

void ExpectComVersion(const COMVERSION& got, const json& want) {
  EXPECT_EQ(got.MajorVersion, want["MajorVersion"].get<uint16_t>());
  EXPECT_EQ(got.MinorVersion, want["MinorVersion"].get<uint16_t>());
}

// Records what the generated server stub decoded, and answers with what the
// test set (to re-encode a response through the generated stub).
class RecordingExporter : public IObjectExporter {
 public:
  // Requests as decoded.
  OXID oxid = 0;
  uint16_t c_requested = 0;
  std::vector<uint16_t> requested;
  SETID set_id = 0;
  uint16_t sequence = 0, c_add = 0, c_del = 0;
  std::optional<std::vector<OID>> add, del;
  // Responses to give.
  ndr::Box<DUALSTRINGARRAY> bindings;
  IPID ipid{};
  DWORD authn_hint = 0, reserved = 0;
  COMVERSION version{};
  uint32_t ret = 0;

  Result<uint32_t> ResolveOxid(OXID, uint16_t, const std::vector<uint16_t>&,
                               ndr::Box<DUALSTRINGARRAY>&, IPID&, DWORD&) override {
    return 0x80004001u;
  }
  Result<uint32_t> SimplePing(SETID) override { return 0x80004001u; }
  Result<uint32_t> ComplexPing(SETID& pSetId, uint16_t SequenceNum, uint16_t cAddToSet,
                               uint16_t cDelFromSet, const std::optional<std::vector<OID>>& AddToSet,
                               const std::optional<std::vector<OID>>& DelFromSet,
                               uint16_t& pPingBackoffFactor) override {
    set_id = pSetId;
    sequence = SequenceNum;
    c_add = cAddToSet;
    c_del = cDelFromSet;
    add = AddToSet;
    del = DelFromSet;
    pPingBackoffFactor = 0;
    return ret;
  }
  Result<uint32_t> ServerAlive() override { return ret; }
  Result<uint32_t> ResolveOxid2(OXID pOxid, uint16_t cRequestedProtseqs,
                                const std::vector<uint16_t>& arRequestedProtseqs,
                                ndr::Box<DUALSTRINGARRAY>& ppdsaOxidBindings,
                                IPID& pipidRemUnknown, DWORD& pAuthnHint,
                                COMVERSION& pComVersion) override {
    oxid = pOxid;
    c_requested = cRequestedProtseqs;
    requested = arRequestedProtseqs;
    ppdsaOxidBindings = bindings;
    pipidRemUnknown = ipid;
    pAuthnHint = authn_hint;
    pComVersion = version;
    return ret;
  }
  Result<uint32_t> ServerAlive2(COMVERSION& pComVersion,
                                ndr::Box<DUALSTRINGARRAY>& ppdsaOrBindings,
                                DWORD& pReserved) override {
    pComVersion = version;
    ppdsaOrBindings = bindings;
    pReserved = reserved;
    return ret;
  }
};

Result<std::vector<uint8_t>> Serve(std::shared_ptr<IObjectExporter> impl, uint16_t opnum,
                                   std::span<const uint8_t> stub) {
  rpc::InterfaceRegistration reg = IObjectExporterRegistration(std::move(impl));
  EXPECT_LT(opnum, reg.operations.size());
  rpc::CallContext call;
  call.opnum = opnum;
  call.interface = IObjectExporterSyntax();
  return reg.operations[opnum](stub, call);
}

TEST(DcomKnownAnswer, OracleNamesTheInterfacesGeneratedFromTheIdl) {
  json o = Oracle("ResolveOxid2-request.stub");
  EXPECT_EQ(IObjectExporterSyntax().uuid, G(o["uuid"]));
  EXPECT_EQ(o["opnum"].get<int>(), 4);
}

TEST(DcomKnownAnswer, ResolveOxid2Request) {
  json o = Oracle("ResolveOxid2-request.stub");
  std::vector<uint8_t> stub = Fixture(o);
  auto impl = std::make_shared<RecordingExporter>();
  auto reply = Serve(impl, 4, stub);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  const json& f = o["fields"];
  EXPECT_EQ(impl->oxid, f["pOxid"].get<uint64_t>());
  EXPECT_EQ(impl->c_requested, f["cRequestedProtseqs"].get<uint16_t>());
  EXPECT_EQ(impl->requested, f["arRequestedProtseqs"].get<std::vector<uint16_t>>());

  // The [in] parameters re-encoded as the generated proxy writes them.
  ndr::Encoder e;
  e.U64(impl->oxid);
  e.U16(impl->c_requested);
  e.Conformance(static_cast<uint32_t>(impl->requested.size()));
  for (uint16_t p : impl->requested) e.U16(p);
  EXPECT_EQ(Masked(std::move(e).Take(), o), Canonical(o));
}

TEST(DcomKnownAnswer, ComplexPingRequest) {
  json o = Oracle("impacket-ComplexPing-request.stub");
  std::vector<uint8_t> stub = Fixture(o);
  auto impl = std::make_shared<RecordingExporter>();
  auto reply = Serve(impl, 2, stub);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  const json& f = o["fields"];
  EXPECT_EQ(impl->set_id, f["pSetId"].get<uint64_t>());
  EXPECT_EQ(impl->sequence, f["SequenceNum"].get<uint16_t>());
  EXPECT_EQ(impl->c_add, f["cAddToSet"].get<uint16_t>());
  EXPECT_EQ(impl->c_del, f["cDelFromSet"].get<uint16_t>());
  ASSERT_TRUE(impl->add.has_value());
  EXPECT_EQ(*impl->add, f["AddToSet"].get<std::vector<uint64_t>>());
  ASSERT_TRUE(f["DelFromSet"].is_null());
  EXPECT_FALSE(impl->del.has_value());

  ndr::Encoder e;
  e.U64(impl->set_id);
  e.U16(impl->sequence);
  e.U16(impl->c_add);
  e.U16(impl->c_del);
  // Top-level [unique] pointers: each referent follows its id.
  e.Pointer(impl->add.has_value());
  e.Conformance(static_cast<uint32_t>(impl->add->size()));
  for (OID oid : *impl->add) e.U64(oid);
  e.Pointer(impl->del.has_value());
  EXPECT_EQ(Masked(std::move(e).Take(), o), Canonical(o));
}

TEST(DcomKnownAnswer, ResolveOxid2Response) {
  json o = Oracle("ResolveOxid2-response.stub");
  std::vector<uint8_t> stub = Fixture(o);
  // The [out] parameters in the order the generated proxy decodes them.
  ndr::Decoder d(stub);
  ndr::Box<DUALSTRINGARRAY> bindings;
  auto id = d.UniquePointer();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_NE(*id, 0u);
  bindings.emplace();
  ASSERT_TRUE(Decode(d, *bindings).ok());
  auto ipid = d.Uuid();
  ASSERT_TRUE(ipid.ok());
  auto hint = d.U32();
  ASSERT_TRUE(hint.ok());
  COMVERSION version;
  ASSERT_TRUE(Decode(d, version).ok());
  auto ret = d.U32();
  ASSERT_TRUE(ret.ok());
  Status end = d.ExpectEnd();
  ASSERT_TRUE(end.ok()) << end.ToString();

  const json& f = o["fields"];
  ExpectDualStringArray(*bindings, f["ppdsaOxidBindings"]);
  EXPECT_EQ(*ipid, G(f["pipidRemUnknown"]));
  EXPECT_EQ(*hint, f["pAuthnHint"].get<uint32_t>());
  ExpectComVersion(version, f["pComVersion"]);
  EXPECT_EQ(*ret, f["ErrorCode"].get<uint32_t>());

  // Re-encoded by the generated server stub.
  auto impl = std::make_shared<RecordingExporter>();
  impl->bindings = bindings;
  impl->ipid = *ipid;
  impl->authn_hint = *hint;
  impl->version = version;
  impl->ret = *ret;
  json request = Oracle("ResolveOxid2-request.stub");
  auto reply = Serve(impl, 4, Fixture(request));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(Masked(*reply, o), Canonical(o));
}

TEST(DcomKnownAnswer, ServerAlive2Response) {
  json o = Oracle("ServerAlive2-response.stub");
  std::vector<uint8_t> stub = Fixture(o);
  ndr::Decoder d(stub);
  COMVERSION version;
  ASSERT_TRUE(Decode(d, version).ok());
  ndr::Box<DUALSTRINGARRAY> bindings;
  auto id = d.UniquePointer();
  ASSERT_TRUE(id.ok());
  ASSERT_NE(*id, 0u);
  bindings.emplace();
  Status s = Decode(d, *bindings);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto reserved = d.U32();
  ASSERT_TRUE(reserved.ok());
  auto ret = d.U32();
  ASSERT_TRUE(ret.ok());
  Status end = d.ExpectEnd();
  ASSERT_TRUE(end.ok()) << end.ToString();

  const json& f = o["fields"];
  ExpectComVersion(version, f["pComVersion"]);
  ExpectDualStringArray(*bindings, f["ppdsaOrBindings"]);
  EXPECT_EQ(*reserved, f["pReserved"].get<uint32_t>());
  EXPECT_EQ(*ret, f["ErrorCode"].get<uint32_t>());

  auto impl = std::make_shared<RecordingExporter>();
  impl->version = version;
  impl->bindings = bindings;
  impl->reserved = *reserved;
  impl->ret = *ret;
  auto reply = Serve(impl, 5, {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(Masked(*reply, o), Canonical(o));
}

}  // namespace
}  // namespace comsec::idl
