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

  std::vector<std::vector<uint8_t>> streams(2);
  COMSEC_ASSIGN_OR_RETURN(streams[0], ndr::EncodePickled(props));
  COMSEC_ASSIGN_OR_RETURN(streams[1], ndr::EncodePickled(scm));

  idl::CustomHeader h;
  h.destCtx = MSHCTX_DIFFERENTMACHINE;
  h.cIfs = 2;
  h.pclsid = std::vector<Guid>{CLSID_PropsOutInfo, CLSID_ScmReplyInfo};
  h.pSizes = std::vector<uint32_t>{static_cast<uint32_t>(streams[0].size()),
                                   static_cast<uint32_t>(streams[1].size())};
  // The header's size does not depend on its values: encode once to learn
  // it, then with the sizes filled in.
  COMSEC_ASSIGN_OR_RETURN(auto sizing, ndr::EncodePickled(h));
  h.headerSize = static_cast<uint32_t>(sizing.size());
  h.totalSize = static_cast<uint32_t>(sizing.size() + streams[0].size() +
                                      streams[1].size());
  COMSEC_ASSIGN_OR_RETURN(auto header, ndr::EncodePickled(h));
  COMSEC_CHECK(header.size() == sizing.size(),
               "CustomHeader's encoded size changed with its values");
  return WrapBlob(IID_IActivationPropertiesOut, CLSID_ActivationPropertiesOut,
                  header, streams, h.totalSize);
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
