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

#include "activation_properties.h"
#include "comsec/base/hex.h"
#include "iactivation.h"
#include "iobjectexporter.h"
#include "iremotescmactivator.h"

namespace comsec::idl {
namespace {

using nlohmann::json;

json Oracle(const std::string& name) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/comidl/" + name +
                   ".json");
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
    if (off + 4 <= bytes.size())
      std::fill_n(bytes.begin() + static_cast<ptrdiff_t>(off), 4, 0);
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
  EXPECT_EQ(got.aStringArray,
            want["aStringArray"].get<std::vector<uint16_t>>());
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
                               ndr::Box<DUALSTRINGARRAY>&, IPID&,
                               DWORD&) override {
    return 0x80004001u;
  }
  Result<uint32_t> SimplePing(SETID) override { return 0x80004001u; }
  Result<uint32_t> ComplexPing(
      SETID& pSetId, uint16_t SequenceNum, uint16_t cAddToSet,
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
  Result<uint32_t> ResolveOxid2(
      OXID pOxid, uint16_t cRequestedProtseqs,
      const std::vector<uint16_t>& arRequestedProtseqs,
      ndr::Box<DUALSTRINGARRAY>& ppdsaOxidBindings, IPID& pipidRemUnknown,
      DWORD& pAuthnHint, COMVERSION& pComVersion) override {
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

Result<std::vector<uint8_t>> Serve(std::shared_ptr<IObjectExporter> impl,
                                   uint16_t opnum,
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
  EXPECT_EQ(impl->requested,
            f["arRequestedProtseqs"].get<std::vector<uint16_t>>());

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

void ExpectOrpcThis(const ORPCTHIS& got, const json& want) {
  ExpectComVersion(got.version, want["version"]);
  EXPECT_EQ(got.flags, want["flags"].get<uint32_t>());
  EXPECT_EQ(got.reserved1, want["reserved1"].get<uint32_t>());
  EXPECT_EQ(got.cid, G(want["cid"]));
  ASSERT_TRUE(want["extensions"].is_null());
  EXPECT_FALSE(got.extensions);
}

std::vector<Guid> Guids(const json& list) {
  std::vector<Guid> out;
  for (const auto& g : list) out.push_back(G(g));
  return out;
}

class RecordingActivation : public IActivation {
 public:
  ORPCTHIS orpcthis;
  GUID clsid{};
  bool object_name = true, object_storage = true;
  DWORD imp_level = 0, mode = 0, interfaces = 0;
  std::optional<std::vector<IID>> iids;
  uint16_t c_protseqs = 0;
  std::vector<uint16_t> protseqs;

  Result<uint32_t> RemoteActivation(
      const ORPCTHIS& ORPCthis, ORPCTHAT&, const GUID& Clsid,
      const std::optional<std::u16string>& pwszObjectName,
      const ndr::Box<MInterfacePointer>& pObjectStorage, DWORD ClientImpLevel,
      DWORD Mode, DWORD Interfaces,
      const std::optional<std::vector<IID>>& pIIDs, uint16_t cRequestedProtseqs,
      const std::vector<uint16_t>& aRequestedProtseqs, OXID&,
      ndr::Box<DUALSTRINGARRAY>&, IPID&, DWORD&, COMVERSION&, HRESULT&,
      std::vector<ndr::Box<MInterfacePointer>>& ppInterfaceData,
      std::vector<HRESULT>& pResults) override {
    orpcthis = ORPCthis;
    clsid = Clsid;
    object_name = pwszObjectName.has_value();
    object_storage = static_cast<bool>(pObjectStorage);
    imp_level = ClientImpLevel;
    mode = Mode;
    interfaces = Interfaces;
    iids = pIIDs;
    c_protseqs = cRequestedProtseqs;
    protseqs = aRequestedProtseqs;
    ppInterfaceData.resize(Interfaces);
    pResults.resize(Interfaces);
    return 0;
  }
};

TEST(DcomKnownAnswer, RemoteActivationRequest) {
  json o = Oracle("samba-RemoteActivation-request.stub");
  std::vector<uint8_t> stub = Fixture(o);
  auto impl = std::make_shared<RecordingActivation>();
  rpc::InterfaceRegistration reg = IActivationRegistration(impl);
  ASSERT_EQ(reg.operations.size(), 1u);
  rpc::CallContext call;
  auto reply = reg.operations[0](stub, call);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  const json& f = o["fields"];
  ExpectOrpcThis(impl->orpcthis, f["ORPCthis"]);
  EXPECT_EQ(impl->clsid, G(f["Clsid"]));
  ASSERT_TRUE(f["pwszObjectName"].is_null());
  EXPECT_FALSE(impl->object_name);
  ASSERT_TRUE(f["pObjectStorage"].is_null());
  EXPECT_FALSE(impl->object_storage);
  EXPECT_EQ(impl->imp_level, f["ClientImpLevel"].get<uint32_t>());
  EXPECT_EQ(impl->mode, f["Mode"].get<uint32_t>());
  EXPECT_EQ(impl->interfaces, f["Interfaces"].get<uint32_t>());
  ASSERT_TRUE(impl->iids.has_value());
  EXPECT_EQ(*impl->iids, Guids(f["pIIDs"]));
  EXPECT_EQ(impl->c_protseqs, f["cRequestedProtseqs"].get<uint16_t>());
  EXPECT_EQ(impl->protseqs,
            f["aRequestedProtseqs"].get<std::vector<uint16_t>>());

  ndr::Encoder e;
  ASSERT_TRUE(Encode(e, impl->orpcthis).ok());
  e.Uuid(impl->clsid);
  e.Pointer(false);  // pwszObjectName
  e.Pointer(false);  // pObjectStorage
  e.U32(impl->imp_level);
  e.U32(impl->mode);
  e.U32(impl->interfaces);
  e.Pointer(true);
  e.Conformance(static_cast<uint32_t>(impl->iids->size()));
  for (const IID& iid : *impl->iids) e.Uuid(iid);
  e.U16(impl->c_protseqs);
  e.Conformance(static_cast<uint32_t>(impl->protseqs.size()));
  for (uint16_t p : impl->protseqs) e.U16(p);
  EXPECT_EQ(Masked(std::move(e).Take(), o), Canonical(o));
}

// The OBJREF_CUSTOM around the activation properties BLOB ([MS-DCOM]
// 2.2.18.6, 2.2.22): a byte layout, its streams pickled types.
struct ActivationObjref {
  uint32_t signature = 0, flags = 0;
  Guid iid, clsid;
  uint32_t cb_extension = 0, reserved = 0;
  uint32_t dw_size = 0, dw_reserved = 0;
  CustomHeader header;
  InstantiationInfoData instantiation;
  ActivationContextInfoData context;
  LocationInfoData location;
  ScmRequestInfoData scm_request;
};

const Guid kInstantiationInfo{0x000001ab, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}};
const Guid kActivationContextInfo{
    0x000001a5, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}};
const Guid kLocationInfo{0x000001a4, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}};
const Guid kScmRequestInfo{0x000001aa, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}};

Status ParseObjref(std::span<const uint8_t> bytes, ActivationObjref& o) {
  ndr::Decoder d(bytes);
  COMSEC_ASSIGN_OR_RETURN(o.signature, d.U32());
  COMSEC_ASSIGN_OR_RETURN(o.flags, d.U32());
  COMSEC_ASSIGN_OR_RETURN(o.iid, d.Uuid());
  COMSEC_ASSIGN_OR_RETURN(o.clsid, d.Uuid());
  COMSEC_ASSIGN_OR_RETURN(o.cb_extension, d.U32());
  COMSEC_ASSIGN_OR_RETURN(o.reserved, d.U32());
  COMSEC_ASSIGN_OR_RETURN(o.dw_size, d.U32());
  COMSEC_ASSIGN_OR_RETURN(o.dw_reserved, d.U32());
  // The header's own headerSize is inside the stream: read it first from
  // the private header's object buffer length (stream = 16 + length).
  size_t at = bytes.size() - d.remaining();
  if (at + 16 > bytes.size()) return d.Error("short header stream");
  uint32_t header_len = uint32_t{bytes[at + 8]} | uint32_t{bytes[at + 9]} << 8 |
                        uint32_t{bytes[at + 10]} << 16 |
                        uint32_t{bytes[at + 11]} << 24;
  COMSEC_ASSIGN_OR_RETURN(auto header_stream, d.Bytes(16 + size_t{header_len}));
  COMSEC_RETURN_IF_ERROR(ndr::DecodePickled(header_stream, o.header));
  if (!o.header.pclsid || !o.header.pSizes) return d.Error("no property list");
  for (size_t i = 0; i < o.header.pclsid->size(); ++i) {
    COMSEC_ASSIGN_OR_RETURN(auto stream, d.Bytes((*o.header.pSizes)[i]));
    const Guid& c = (*o.header.pclsid)[i];
    if (c == kInstantiationInfo) {
      COMSEC_RETURN_IF_ERROR(ndr::DecodePickled(stream, o.instantiation));
    } else if (c == kActivationContextInfo) {
      COMSEC_RETURN_IF_ERROR(ndr::DecodePickled(stream, o.context));
    } else if (c == kLocationInfo) {
      COMSEC_RETURN_IF_ERROR(ndr::DecodePickled(stream, o.location));
    } else if (c == kScmRequestInfo) {
      COMSEC_RETURN_IF_ERROR(ndr::DecodePickled(stream, o.scm_request));
    } else {
      return d.Error("unexpected property");
    }
  }
  return d.ExpectEnd();
}

Result<std::vector<uint8_t>> EncodeObjref(const ActivationObjref& o) {
  ndr::Encoder e;
  e.U32(o.signature);
  e.U32(o.flags);
  e.Uuid(o.iid);
  e.Uuid(o.clsid);
  e.U32(o.cb_extension);
  e.U32(o.reserved);
  e.U32(o.dw_size);
  e.U32(o.dw_reserved);
  COMSEC_ASSIGN_OR_RETURN(auto header, ndr::EncodePickled(o.header));
  e.Bytes(header);
  for (const Guid& c : *o.header.pclsid) {
    std::vector<uint8_t> s;
    if (c == kInstantiationInfo) {
      COMSEC_ASSIGN_OR_RETURN(s, ndr::EncodePickled(o.instantiation));
    } else if (c == kActivationContextInfo) {
      COMSEC_ASSIGN_OR_RETURN(s, ndr::EncodePickled(o.context));
    } else if (c == kLocationInfo) {
      COMSEC_ASSIGN_OR_RETURN(s, ndr::EncodePickled(o.location));
    } else {
      COMSEC_ASSIGN_OR_RETURN(s, ndr::EncodePickled(o.scm_request));
    }
    e.Bytes(s);
  }
  return std::move(e).Take();
}

void ExpectObjref(const ActivationObjref& got, const json& want) {
  EXPECT_EQ(got.signature, want["signature"].get<uint32_t>());
  EXPECT_EQ(got.flags, want["flags"].get<uint32_t>());
  EXPECT_EQ(got.iid, G(want["iid"]));
  const json& custom = want["custom"];
  EXPECT_EQ(got.clsid, G(custom["clsid"]));
  EXPECT_EQ(got.cb_extension, custom["cbExtension"].get<uint32_t>());
  EXPECT_EQ(got.reserved, custom["reserved"].get<uint32_t>());
  const json& blob = custom["activation_blob"];
  EXPECT_EQ(got.dw_size, blob["dwSize"].get<uint32_t>());
  EXPECT_EQ(got.dw_reserved, blob["dwReserved"].get<uint32_t>());

  const json& h = blob["CustomHeader"];
  EXPECT_EQ(got.header.totalSize, h["totalSize"].get<uint32_t>());
  EXPECT_EQ(got.header.headerSize, h["headerSize"].get<uint32_t>());
  EXPECT_EQ(got.header.dwReserved, h["dwReserved"].get<uint32_t>());
  EXPECT_EQ(got.header.destCtx, h["destCtx"].get<uint32_t>());
  EXPECT_EQ(got.header.cIfs, h["cIfs"].get<uint32_t>());
  EXPECT_EQ(got.header.classInfoClsid, G(h["classInfoClsid"]));
  ASSERT_TRUE(got.header.pclsid && got.header.pSizes);
  EXPECT_EQ(*got.header.pclsid, Guids(h["pclsid"]));
  EXPECT_EQ(*got.header.pSizes, h["pSizes"].get<std::vector<uint32_t>>());
  ASSERT_TRUE(h["pdwReserved"].is_null());
  EXPECT_FALSE(got.header.pdwReserved);

  const json& props = blob["properties"];
  ASSERT_EQ(props.size(), 4u);
  for (const json& p : props) {
    const std::string type = p["type"].get<std::string>();
    const json& v = p["value"];
    if (type == "InstantiationInfoData") {
      const InstantiationInfoData& x = got.instantiation;
      EXPECT_EQ(x.classId, G(v["classId"]));
      EXPECT_EQ(x.classCtx, v["classCtx"].get<uint32_t>());
      EXPECT_EQ(x.actvflags, v["actvflags"].get<uint32_t>());
      EXPECT_EQ(x.fIsSurrogate, v["fIsSurrogate"].get<int32_t>());
      EXPECT_EQ(x.cIID, v["cIID"].get<uint32_t>());
      EXPECT_EQ(x.instFlag, v["instFlag"].get<uint32_t>());
      EXPECT_EQ(x.thisSize, v["thisSize"].get<uint32_t>());
      ExpectComVersion(x.clientCOMVersion, v["clientCOMVersion"]);
      ASSERT_TRUE(x.pIID.has_value());
      EXPECT_EQ(*x.pIID, Guids(v["pIID"]));
    } else if (type == "ActivationContextInfoData") {
      const ActivationContextInfoData& x = got.context;
      EXPECT_EQ(x.clientOK, v["clientOK"].get<int32_t>());
      EXPECT_EQ(x.bReserved1, v["bReserved1"].get<int32_t>());
      EXPECT_EQ(x.dwReserved1, v["dwReserved1"].get<uint32_t>());
      EXPECT_EQ(x.dwReserved2, v["dwReserved2"].get<uint32_t>());
      ASSERT_TRUE(v["pIFDClientCtx"].is_null() &&
                  v["pIFDPrototypeCtx"].is_null());
      EXPECT_FALSE(x.pIFDClientCtx);
      EXPECT_FALSE(x.pIFDPrototypeCtx);
    } else if (type == "LocationInfoData") {
      const LocationInfoData& x = got.location;
      ASSERT_TRUE(v["machineName"].is_null());
      EXPECT_FALSE(x.machineName.has_value());
      EXPECT_EQ(x.processId, v["processId"].get<uint32_t>());
      EXPECT_EQ(x.apartmentId, v["apartmentId"].get<uint32_t>());
      EXPECT_EQ(x.contextId, v["contextId"].get<uint32_t>());
    } else if (type == "ScmRequestInfoData") {
      const ScmRequestInfoData& x = got.scm_request;
      ASSERT_TRUE(v["pdwReserved"].is_null());
      EXPECT_FALSE(x.pdwReserved.has_value());
      ASSERT_TRUE(x.remoteRequest);
      const json& r = v["remoteRequest"];
      EXPECT_EQ(x.remoteRequest->ClientImpLevel,
                r["ClientImpLevel"].get<uint32_t>());
      EXPECT_EQ(x.remoteRequest->cRequestedProtseqs,
                r["cRequestedProtseqs"].get<uint16_t>());
      ASSERT_TRUE(x.remoteRequest->pRequestedProtseqs.has_value());
      EXPECT_EQ(*x.remoteRequest->pRequestedProtseqs,
                r["pRequestedProtseqs"].get<std::vector<uint16_t>>());
    } else {
      ADD_FAILURE() << "unexpected property " << type;
    }
  }
}

TEST(DcomKnownAnswer, RemoteCreateInstanceActivationProperties) {
  json o = Oracle("impacket-RemoteCreateInstance-pActProperties.objref");
  std::vector<uint8_t> bytes = Fixture(o);
  ActivationObjref objref;
  Status s = ParseObjref(bytes, objref);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectObjref(objref, o["fields"]);
  auto again = EncodeObjref(objref);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Masked(*again, o), Canonical(o));
}

class RecordingScmActivator : public IRemoteSCMActivator {
 public:
  ORPCTHIS orpcthis;
  bool unk_outer = true;
  ndr::Box<MInterfacePointer> act_properties;

  Status Opnum0NotUsedOnWire() override { return Status(); }
  Status Opnum1NotUsedOnWire() override { return Status(); }
  Status Opnum2NotUsedOnWire() override { return Status(); }
  Result<HRESULT> RemoteGetClassObject(const ORPCTHIS&, ORPCTHAT&,
                                       const ndr::Box<MInterfacePointer>&,
                                       ndr::Box<MInterfacePointer>&) override {
    return static_cast<HRESULT>(0x80004001u);
  }
  Result<HRESULT> RemoteCreateInstance(
      const ORPCTHIS& o, ORPCTHAT&,
      const ndr::Box<MInterfacePointer>& pUnkOuter,
      const ndr::Box<MInterfacePointer>& pActProperties,
      ndr::Box<MInterfacePointer>&) override {
    orpcthis = o;
    unk_outer = static_cast<bool>(pUnkOuter);
    act_properties = pActProperties;
    return 0;
  }
};

TEST(DcomKnownAnswer, RemoteCreateInstanceRequest) {
  json o = Oracle("impacket-RemoteCreateInstance-request.stub");
  std::vector<uint8_t> stub = Fixture(o);
  auto impl = std::make_shared<RecordingScmActivator>();
  rpc::InterfaceRegistration reg = IRemoteSCMActivatorRegistration(impl);
  ASSERT_EQ(reg.operations.size(), 5u);
  rpc::CallContext call;
  auto reply = reg.operations[4](stub, call);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  const json& f = o["fields"];
  ExpectOrpcThis(impl->orpcthis, f["orpcthis"]);
  ASSERT_TRUE(f["pUnkOuter"].is_null());
  EXPECT_FALSE(impl->unk_outer);
  ASSERT_TRUE(impl->act_properties);
  const MInterfacePointer& ip = *impl->act_properties;
  EXPECT_EQ(ip.ulCntData, f["pActProperties"]["ulCntData"].get<uint32_t>());
  // The OBJREF is the separate fixture's bytes, at the oracle's offset.
  json objref_oracle =
      Oracle("impacket-RemoteCreateInstance-pActProperties.objref");
  EXPECT_EQ(ToHex(ip.abData), objref_oracle["hex"].get<std::string>());
  EXPECT_EQ(o["hex"].get<std::string>().substr(
                2 * o["objref_offset"].get<size_t>(), 2 * ip.abData.size()),
            ToHex(ip.abData));
  ActivationObjref objref;
  Status s = ParseObjref(ip.abData, objref);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectObjref(objref, f["pActProperties"]["objref"]);

  // Re-encoded: ORPCTHIS, NULL pUnkOuter, then the MInterfacePointer with
  // the canonical OBJREF.
  auto canonical_objref = EncodeObjref(objref);
  ASSERT_TRUE(canonical_objref.ok()) << canonical_objref.status().ToString();
  MInterfacePointer out{static_cast<uint32_t>(canonical_objref->size()),
                        *canonical_objref};
  ndr::Encoder e;
  ASSERT_TRUE(Encode(e, impl->orpcthis).ok());
  e.Pointer(false);
  e.Pointer(true);
  ASSERT_TRUE(Encode(e, out).ok());
  EXPECT_EQ(Masked(std::move(e).Take(), o), Canonical(o));
}

// Every capture cut short by one byte is refused by the generated stub.
TEST(DcomKnownAnswer, TruncatedRequestsAreRefused) {
  struct Case {
    const char* oracle;
    rpc::InterfaceRegistration reg;
    uint16_t opnum;
  };
  Case cases[] = {
      {"ResolveOxid2-request.stub",
       IObjectExporterRegistration(std::make_shared<RecordingExporter>()), 4},
      {"impacket-ComplexPing-request.stub",
       IObjectExporterRegistration(std::make_shared<RecordingExporter>()), 2},
      {"samba-RemoteActivation-request.stub",
       IActivationRegistration(std::make_shared<RecordingActivation>()), 0},
      {"impacket-RemoteCreateInstance-request.stub",
       IRemoteSCMActivatorRegistration(
           std::make_shared<RecordingScmActivator>()),
       4},
  };
  for (Case& c : cases) {
    std::vector<uint8_t> stub = Fixture(Oracle(c.oracle));
    stub.pop_back();
    rpc::CallContext call;
    auto r = c.reg.operations[c.opnum](stub, call);
    EXPECT_FALSE(r.ok()) << c.oracle;
  }
}

}  // namespace
}  // namespace comsec::idl
