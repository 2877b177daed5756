#include "comsec/activation/activation_properties.h"

#include <cstdio>
#include <string>
#include <utility>

#include "comsec/com/objref.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/idl_support.h"
#include "comsec/ndr/type_serialization.h"
#include "comsec/base/check.h"
#include "comsec/base/win32_error.h"

namespace comsec::activation {
namespace {

// Where the BLOB starts in an OBJREF_CUSTOM: signature, flags, iid, clsid,
// cbExtension, reserved (2.2.18.6).
constexpr size_t kObjrefCustomDataOffset = 4 + 4 + 16 + 16 + 4 + 4;
// dwSize and dwReserved in front of the CustomHeader (2.2.22).
constexpr size_t kBlobPrefix = 8;

std::string Hex(size_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", v);
  return buf;
}

Status BadBlob(std::string message, size_t at) {
  return Status(RPC_X_BAD_STUB_DATA,
                std::move(message) + " (OBJREF offset " + Hex(at) + ")")
      .WithPosition(at);
}

uint32_t Le32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 |
         uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

void PutLe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

const char* PropertyName(const Guid& clsid) {
  if (clsid == CLSID_InstantiationInfo) return "InstantiationInfo";
  if (clsid == CLSID_SpecialSystemProperties) return "SpecialSystemProperties";
  if (clsid == CLSID_ActivationContextInfo) return "ActivationContextInfo";
  if (clsid == CLSID_SecurityInfo) return "SecurityInfo";
  if (clsid == CLSID_ServerLocationInfo) return "ServerLocationInfo";
  if (clsid == CLSID_ScmRequestInfo) return "ScmRequestInfo";
  if (clsid == CLSID_InstanceInfo) return "InstanceInfo";
  if (clsid == CLSID_ScmReplyInfo) return "ScmReplyInfo";
  if (clsid == CLSID_PropsOutInfo) return "PropsOutInfo";
  return "unknown property";
}

// One property stream of the BLOB: its CLSID, bytes, and offset in the
// OBJREF (for messages).
struct RawProperty {
  Guid clsid;
  std::span<const uint8_t> stream;
  size_t offset = 0;
};

struct RawBlob {
  idl::CustomHeader header;
  std::vector<RawProperty> properties;
};

Status Located(const Status& s, const std::string& what, size_t at) {
  return Status(s.code(), what + ": " + std::string(s.message()) +
                              " (OBJREF offset " + Hex(at) + ")")
      .WithPosition(at);
}

// Decodes one type serialization v1 stream that starts at OBJREF offset
// `at`, naming `what` and the OBJREF offset on failure (the stream
// decoder's own code kept: RPC_X_BAD_STUB_DATA or RPC_X_WRONG_ES_VERSION).
// ndr::DecodePickled's steps, kept apart so that an offset in the stream
// headers and one in the NDR body both map to the OBJREF's bytes.
template <typename T>
Status DecodeStream(std::span<const uint8_t> stream, size_t at,
                    const std::string& what, T& value) {
  auto pickled = ndr::UnpickleType(stream);
  if (!pickled.ok())
    return Located(pickled.status(), what,
                   at + pickled.status().position().value_or(0));
  ndr::Decoder d(pickled->ndr, pickled->rep);
  Status s = Decode(d, value);
  if (s.ok()) s = d.ExpectEnd();
  if (s.ok()) return s;
  return Located(s, what,
                 at + ndr::kTypeSerializationHeaderBytes +
                     s.position().value_or(0));
}

template <typename T>
Status DecodeProperty(const RawProperty& p, size_t index, T& value) {
  return DecodeStream(p.stream, p.offset,
                      "property " + std::to_string(index) + " (" +
                          PropertyName(p.clsid) + ", " +
                          std::to_string(p.stream.size()) + " bytes)",
                      value);
}

// The OBJREF_CUSTOM and the BLOB's framing (2.2.18.6, 2.2.22, 2.2.22.1):
// everything but the properties' contents.
Result<RawBlob> ParseBlob(std::span<const uint8_t> bytes, const Guid& iid,
                          const Guid& clsid, const char* what) {
  COMSEC_ASSIGN_OR_RETURN(com::Objref objref, com::DecodeObjref(bytes));
  if (objref.type != com::OBJREF_CUSTOM)
    return Status(RPC_E_INVALID_OBJREF,
                  std::string(what) + " is not an OBJREF_CUSTOM (flags " +
                      std::to_string(objref.type) + ") at offset 0x4")
        .WithPosition(4);
  if (objref.iid != iid)
    return Status(RPC_E_INVALID_OBJREF,
                  std::string(what) + " has iid " + objref.iid.ToString() +
                      ", not " + iid.ToString() + " at offset 0x8")
        .WithPosition(8);
  if (objref.clsid != clsid)
    return Status(RPC_E_INVALID_OBJREF,
                  std::string(what) + " has clsid " +
                      objref.clsid.ToString() + ", not " + clsid.ToString() +
                      " at offset 0x18")
        .WithPosition(24);

  // The BLOB is the OBJREF's tail (DecodeObjref copied it out).
  const std::span<const uint8_t> data =
      bytes.subspan(bytes.size() - objref.custom_data.size());
  const size_t base = kObjrefCustomDataOffset;
  if (data.size() < kBlobPrefix + ndr::kTypeSerializationHeaderBytes)
    return BadBlob("the activation properties BLOB (" +
                       std::to_string(data.size()) +
                       " bytes) is shorter than its dwSize, dwReserved and "
                       "CustomHeader stream headers",
                   base);
  const uint32_t dw_size = Le32(data, 0);
  const std::span<const uint8_t> blob = data.subspan(kBlobPrefix);
  if (dw_size != blob.size())
    return BadBlob("BLOB dwSize " + std::to_string(dw_size) + " is not the " +
                       std::to_string(blob.size()) + " bytes that follow",
                   base);
  const size_t blob_base = base + kBlobPrefix;

  // The header stream's length comes from its own private header; the
  // stream decoder checks the rest of the headers.
  const uint64_t header_len = uint64_t{ndr::kTypeSerializationHeaderBytes} +
                              Le32(blob, 8);
  if (header_len > blob.size())
    return BadBlob("CustomHeader's ObjectBufferLength " +
                       std::to_string(header_len - 16) + " runs past the " +
                       std::to_string(blob.size()) + "-byte BLOB",
                   blob_base + 8);
  RawBlob raw;
  idl::CustomHeader& h = raw.header;
  COMSEC_RETURN_IF_ERROR(
      DecodeStream(blob.first(header_len), blob_base, "CustomHeader", h));
  if (h.totalSize != blob.size())
    return BadBlob("CustomHeader totalSize " + std::to_string(h.totalSize) +
                       " is not the BLOB's " + std::to_string(blob.size()) +
                       " bytes",
                   blob_base + 16);
  // headerSize counts the header stream, with or without its trailing pad
  // (impacket leaves the pad out of ObjectBufferLength).
  const uint64_t padded = (header_len + 7) & ~uint64_t{7};
  if (h.headerSize < header_len || h.headerSize > padded ||
      h.headerSize > blob.size())
    return BadBlob("CustomHeader headerSize " + std::to_string(h.headerSize) +
                       " is not its stream's " + std::to_string(header_len) +
                       " bytes",
                   blob_base + 20);
  // The generated decoder enforces [range] and size_is; these repeat the
  // checks this code relies on (E_UNEXPECTED would be a comidl bug, but the
  // wire answer stays the same).
  if (h.cIfs < kMinActPropLimit || h.cIfs > kMaxActPropLimit)
    return BadBlob("CustomHeader cIfs " + std::to_string(h.cIfs) +
                       " is outside 1.." + std::to_string(kMaxActPropLimit),
                   blob_base + 32);
  if (!h.pclsid || !h.pSizes || h.pclsid->size() != h.cIfs ||
      h.pSizes->size() != h.cIfs)
    return BadBlob("CustomHeader pclsid and pSizes do not hold cIfs " +
                       std::to_string(h.cIfs) + " entries",
                   blob_base + 52);

  size_t off = h.headerSize;
  for (size_t i = 0; i < h.cIfs; ++i) {
    const Guid& c = (*h.pclsid)[i];
    const uint32_t size = (*h.pSizes)[i];
    for (size_t j = 0; j < i; ++j) {
      if ((*h.pclsid)[j] == c)
        return BadBlob("property " + std::to_string(i) + " (" +
                           PropertyName(c) + " " + c.ToString() +
                           ") is listed twice (also property " +
                           std::to_string(j) + ")",
                       blob_base + off);
    }
    if (size > blob.size() - off)
      return BadBlob("property " + std::to_string(i) + " (" +
                         PropertyName(c) + ") size " + std::to_string(size) +
                         " runs " + std::to_string(size - (blob.size() - off)) +
                         " bytes past the BLOB",
                     blob_base + off);
    raw.properties.push_back({c, blob.subspan(off, size), blob_base + off});
    off += size;
  }
  if (off != blob.size())
    return BadBlob("the properties end at " + std::to_string(off) +
                       " but totalSize is " + std::to_string(blob.size()),
                   blob_base + off);
  return raw;
}

std::vector<uint8_t> WrapBlob(const Guid& iid, const Guid& clsid,
                              std::span<const uint8_t> header,
                              const std::vector<std::vector<uint8_t>>& props,
                              uint32_t total) {
  com::Objref objref;
  objref.type = com::OBJREF_CUSTOM;
  objref.iid = iid;
  objref.clsid = clsid;
  std::vector<uint8_t>& blob = objref.custom_data;
  PutLe32(blob, total);  // dwSize
  PutLe32(blob, 0);      // dwReserved
  blob.insert(blob.end(), header.begin(), header.end());
  for (const auto& p : props) blob.insert(blob.end(), p.begin(), p.end());
  return com::EncodeObjref(objref);
}

// The whole OBJREF_CUSTOM of a BLOB whose property streams are already
// pickled: the CustomHeader describing them in their order (pSizes the
// streams' full sizes, headerSize the header stream's, totalSize = dwSize
// = headerSize + the property sizes, classInfoClsid GUID_NULL).
Result<std::vector<uint8_t>> EncodeBlob(
    const Guid& iid, const Guid& clsid, uint32_t dest_ctx,
    std::vector<Guid> clsids, const std::vector<std::vector<uint8_t>>& streams) {
  COMSEC_CHECK(clsids.size() == streams.size() && !clsids.empty() &&
                   clsids.size() <= kMaxActPropLimit,
               "a BLOB needs 1..10 properties, each with its CLSID");
  idl::CustomHeader h;
  h.destCtx = dest_ctx;
  h.cIfs = static_cast<uint32_t>(clsids.size());
  h.pclsid = std::move(clsids);
  h.pSizes.emplace();
  size_t properties = 0;
  for (const auto& s : streams) {
    h.pSizes->push_back(static_cast<uint32_t>(s.size()));
    properties += s.size();
  }
  // The header's size does not depend on its values: encode once to learn
  // it, then with the sizes filled in.
  COMSEC_ASSIGN_OR_RETURN(auto sizing, ndr::EncodePickled(h));
  h.headerSize = static_cast<uint32_t>(sizing.size());
  h.totalSize = static_cast<uint32_t>(sizing.size() + properties);
  COMSEC_ASSIGN_OR_RETURN(auto header, ndr::EncodePickled(h));
  COMSEC_CHECK(header.size() == sizing.size(),
               "CustomHeader's encoded size changed with its values");
  return WrapBlob(iid, clsid, header, streams, h.totalSize);
}

// Appends one property's stream and CLSID.
template <typename T>
Status AddProperty(const Guid& clsid, const T& value, std::vector<Guid>& clsids,
                   std::vector<std::vector<uint8_t>>& streams) {
  COMSEC_ASSIGN_OR_RETURN(auto stream, ndr::EncodePickled(value));
  clsids.push_back(clsid);
  streams.push_back(std::move(stream));
  return Status::Ok();
}

}  // namespace

Result<ActivationPropertiesIn> DecodeActivationPropertiesIn(
    std::span<const uint8_t> objref) {
  COMSEC_ASSIGN_OR_RETURN(
      RawBlob raw, ParseBlob(objref, IID_IActivationPropertiesIn,
                             CLSID_ActivationPropertiesIn,
                             "pActProperties"));
  ActivationPropertiesIn in;
  in.dest_ctx = raw.header.destCtx;
  bool have_instantiation = false, have_scm_request = false;
  for (size_t i = 0; i < raw.properties.size(); ++i) {
    const RawProperty& p = raw.properties[i];
    in.order.push_back(p.clsid);
    if (p.clsid == CLSID_InstantiationInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.instantiation));
      if (!in.instantiation.pIID)
        return BadBlob("InstantiationInfo has no pIID", p.offset);
      have_instantiation = true;
    } else if (p.clsid == CLSID_ScmRequestInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.scm_request));
      // 2.2.22.2.4: remoteRequest "MUST NOT be NULL".
      if (!in.scm_request.remoteRequest)
        return BadBlob("ScmRequestInfo has no remoteRequest", p.offset);
      have_scm_request = true;
    } else if (p.clsid == CLSID_SpecialSystemProperties) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.special.emplace()));
    } else if (p.clsid == CLSID_ActivationContextInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.context.emplace()));
    } else if (p.clsid == CLSID_SecurityInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.security.emplace()));
    } else if (p.clsid == CLSID_ServerLocationInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.location.emplace()));
    } else if (p.clsid == CLSID_InstanceInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, in.instance.emplace()));
    } else {
      in.unknown.push_back(
          {p.clsid, std::vector<uint8_t>(p.stream.begin(), p.stream.end())});
    }
  }
  // 3.1.2.5.2.3.3: an activation names its class and interfaces
  // (InstantiationInfo) and how to reach the client (ScmRequestInfo).
  if (!have_instantiation)
    return BadBlob("the BLOB has no InstantiationInfo property",
                   kObjrefCustomDataOffset);
  if (!have_scm_request)
    return BadBlob("the BLOB has no ScmRequestInfo property",
                   kObjrefCustomDataOffset);
  return in;
}

Result<std::vector<uint8_t>> EncodeActivationPropertiesIn(
    const ActivationPropertiesIn& in) {
  const idl::InstantiationInfoData& inst = in.instantiation;
  const size_t n = inst.pIID ? inst.pIID->size() : 0;
  if (n < 1 || n > 0x8000)  // cIID: 1..MAX_REQUESTED_INTERFACES
    return Status(E_INVALIDARG, "an activation asks for 1..32768 interfaces, "
                                "not " + std::to_string(n));
  if (inst.cIID != n)
    return Status(E_INVALIDARG, "InstantiationInfo cIID " +
                                    std::to_string(inst.cIID) +
                                    " is not pIID's " + std::to_string(n) +
                                    " entries");
  const auto& remote = in.scm_request.remoteRequest;
  if (!remote)
    return Status(E_INVALIDARG,
                  "ScmRequestInfo needs its remoteRequest (2.2.22.2.4)");
  const size_t protseqs =
      remote->pRequestedProtseqs ? remote->pRequestedProtseqs->size() : 0;
  if (remote->cRequestedProtseqs != protseqs)
    return Status(E_INVALIDARG,
                  "ScmRequestInfo cRequestedProtseqs " +
                      std::to_string(remote->cRequestedProtseqs) +
                      " is not pRequestedProtseqs' " +
                      std::to_string(protseqs) + " entries");
  const size_t count = 2 + in.special.has_value() + in.context.has_value() +
                       in.security.has_value() + in.location.has_value() +
                       in.instance.has_value() + in.unknown.size();
  if (count > kMaxActPropLimit)
    return Status(E_INVALIDARG, "an activation properties BLOB holds at most " +
                                    std::to_string(kMaxActPropLimit) +
                                    " properties, not " + std::to_string(count));

  std::vector<Guid> clsids;
  std::vector<std::vector<uint8_t>> streams;
  if (in.special)
    COMSEC_RETURN_IF_ERROR(AddProperty(CLSID_SpecialSystemProperties,
                                       *in.special, clsids, streams));
  // thisSize is the stream's own size, which does not depend on its value:
  // encoded once to learn it.
  idl::InstantiationInfoData sized = inst;
  COMSEC_ASSIGN_OR_RETURN(auto sizing, ndr::EncodePickled(sized));
  sized.thisSize = static_cast<uint32_t>(sizing.size());
  COMSEC_RETURN_IF_ERROR(
      AddProperty(CLSID_InstantiationInfo, sized, clsids, streams));
  if (in.context)
    COMSEC_RETURN_IF_ERROR(AddProperty(CLSID_ActivationContextInfo,
                                       *in.context, clsids, streams));
  if (in.security)
    COMSEC_RETURN_IF_ERROR(
        AddProperty(CLSID_SecurityInfo, *in.security, clsids, streams));
  if (in.location)
    COMSEC_RETURN_IF_ERROR(AddProperty(CLSID_ServerLocationInfo, *in.location,
                                       clsids, streams));
  if (in.instance)
    COMSEC_RETURN_IF_ERROR(
        AddProperty(CLSID_InstanceInfo, *in.instance, clsids, streams));
  COMSEC_RETURN_IF_ERROR(
      AddProperty(CLSID_ScmRequestInfo, in.scm_request, clsids, streams));
  for (const UnknownActivationProperty& u : in.unknown) {
    for (const Guid& c : clsids) {
      if (c == u.clsid)
        return Status(E_INVALIDARG, "property " + u.clsid.ToString() +
                                        " would be listed twice");
    }
    clsids.push_back(u.clsid);
    streams.push_back(u.stream);
  }
  return EncodeBlob(IID_IActivationPropertiesIn, CLSID_ActivationPropertiesIn,
                    in.dest_ctx, std::move(clsids), streams);
}

Result<std::vector<uint8_t>> EncodeActivationPropertiesOut(
    const ActivationPropertiesOut& out) {
  const size_t n = out.interfaces.size();
  if (n < 1 || n > 0x8000)  // PropsOutInfo.cIfs: 1..MAX_REQUESTED_INTERFACES
    return Status(E_INVALIDARG, "an activation reply answers 1..32768 "
                                "interfaces, not " + std::to_string(n));
  if (out.oxid_bindings.wNumEntries != out.oxid_bindings.aStringArray.size())
    return Status(E_INVALIDARG,
                  "oxid_bindings.wNumEntries is not its array's length");

  idl::PropsOutInfo props;
  props.cIfs = static_cast<uint32_t>(n);
  props.piid.emplace();
  props.phresults.emplace();
  props.ppIntfData.emplace();
  for (const ActivationInterfaceResult& r : out.interfaces) {
    props.piid->push_back(r.iid);
    props.phresults->push_back(static_cast<int32_t>(r.hr.value()));
    ndr::Box<idl::MInterfacePointer> ip;
    if (r.hr.Succeeded()) {
      if (r.objref.empty())
        return Status(E_INVALIDARG, "interface " + r.iid.ToString() +
                                        " succeeded without an OBJREF");
      ip = idl::MInterfacePointer{static_cast<uint32_t>(r.objref.size()),
                                  r.objref};
    }
    props.ppIntfData->push_back(std::move(ip));
  }

  idl::ScmReplyInfoData scm;
  idl::customREMOTE_REPLY_SCM_INFO& reply = scm.remoteReply.emplace();
  reply.Oxid = out.oxid;
  reply.pdsaOxidBindings = out.oxid_bindings;
  reply.ipidRemUnknown = out.ipid_rem_unknown;
  reply.authnHint = out.authn_hint;
  reply.serverVersion = {out.server_major, out.server_minor};

  std::vector<Guid> clsids;
  std::vector<std::vector<uint8_t>> streams;
  COMSEC_RETURN_IF_ERROR(AddProperty(CLSID_PropsOutInfo, props, clsids, streams));
  COMSEC_RETURN_IF_ERROR(AddProperty(CLSID_ScmReplyInfo, scm, clsids, streams));
  return EncodeBlob(IID_IActivationPropertiesOut, CLSID_ActivationPropertiesOut,
                    MSHCTX_DIFFERENTMACHINE, std::move(clsids), streams);
}

Result<ActivationPropertiesOut> DecodeActivationPropertiesOut(
    std::span<const uint8_t> objref) {
  COMSEC_ASSIGN_OR_RETURN(
      RawBlob raw, ParseBlob(objref, IID_IActivationPropertiesOut,
                             CLSID_ActivationPropertiesOut,
                             "ppActProperties"));
  std::optional<idl::PropsOutInfo> props;
  std::optional<idl::ScmReplyInfoData> scm;
  size_t props_at = 0, scm_at = 0;
  for (size_t i = 0; i < raw.properties.size(); ++i) {
    const RawProperty& p = raw.properties[i];
    if (p.clsid == CLSID_PropsOutInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, props.emplace()));
      props_at = p.offset;
    } else if (p.clsid == CLSID_ScmReplyInfo) {
      COMSEC_RETURN_IF_ERROR(DecodeProperty(p, i, scm.emplace()));
      scm_at = p.offset;
    }
  }
  if (!props)
    return BadBlob("the reply has no PropsOutInfo", kObjrefCustomDataOffset);
  if (!scm)
    return BadBlob("the reply has no ScmReplyInfo", kObjrefCustomDataOffset);
  if (!props->piid || !props->phresults || !props->ppIntfData ||
      props->piid->size() != props->cIfs ||
      props->phresults->size() != props->cIfs ||
      props->ppIntfData->size() != props->cIfs)
    return BadBlob("PropsOutInfo's arrays do not hold cIfs entries", props_at);
  if (!scm->remoteReply || !scm->remoteReply->pdsaOxidBindings)
    return BadBlob("ScmReplyInfo has no remoteReply or bindings", scm_at);

  ActivationPropertiesOut out;
  for (size_t i = 0; i < props->cIfs; ++i) {
    ActivationInterfaceResult r;
    r.iid = (*props->piid)[i];
    r.hr = HResult(static_cast<uint32_t>((*props->phresults)[i]));
    const auto& ip = (*props->ppIntfData)[i];
    if (ip) r.objref = ip->abData;
    out.interfaces.push_back(std::move(r));
  }
  const idl::customREMOTE_REPLY_SCM_INFO& reply = *scm->remoteReply;
  out.oxid = reply.Oxid;
  out.oxid_bindings = *reply.pdsaOxidBindings;
  out.ipid_rem_unknown = reply.ipidRemUnknown;
  out.authn_hint = reply.authnHint;
  out.server_major = reply.serverVersion.MajorVersion;
  out.server_minor = reply.serverVersion.MinorVersion;
  return out;
}

}  // namespace comsec::activation
