#include "comsec/com/objref.h"

#include <cstdio>
#include <string>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/check.h"

namespace comsec::com {
namespace {

std::string Hex32(uint32_t v) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

// Every refusal is RPC_E_INVALID_OBJREF, whatever the reader or the
// DUALSTRINGARRAY decoder said (E_INVALIDARG, RPC_X_BAD_STUB_DATA): the
// message and position are kept.
Status Invalid(const Status& s, size_t fallback_position) {
  return Status(RPC_E_INVALID_OBJREF, std::string(s.message()))
      .WithPosition(s.position().value_or(fallback_position));
}

// Reads a field and turns a truncation into RPC_E_INVALID_OBJREF.
#define OBJREF_READ(lhs, expr)                                             \
  COMSEC_INTERNAL_OBJREF_READ(COMSEC_INTERNAL_CONCAT(objref_r_, __LINE__), \
                              lhs, expr)
#define COMSEC_INTERNAL_OBJREF_READ(tmp, lhs, expr)        \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) return Invalid(tmp.status(), r.offset()); \
  lhs = std::move(tmp).value()

Result<Guid> ReadGuid(ByteReader& r) {
  OBJREF_READ(auto bytes, r.Bytes(16));
  return Guid::FromBytes(bytes.data());
}

Result<uint64_t> ReadU64(ByteReader& r) {
  OBJREF_READ(uint32_t lo, r.U32Le());
  OBJREF_READ(uint32_t hi, r.U32Le());
  return static_cast<uint64_t>(hi) << 32 | lo;
}

// [MS-DCOM] 2.2.18.2
Result<StdObjref> ReadStdObjref(ByteReader& r) {
  StdObjref s;
  OBJREF_READ(s.flags, r.U32Le());
  OBJREF_READ(s.public_refs, r.U32Le());
  OBJREF_READ(s.oxid, ReadU64(r));
  OBJREF_READ(s.oid, ReadU64(r));
  OBJREF_READ(s.ipid, ReadGuid(r));
  return s;
}

// [MS-DCOM] 2.2.19, packed (no NDR conformance count): the array's shape is
// checked by OxidBindings::Decode.
Result<OxidBindings> ReadDualStringArray(ByteReader& r) {
  const size_t start = r.offset();
  OBJREF_READ(uint16_t entries, r.U16Le());
  OBJREF_READ(uint16_t security_offset, r.U16Le());
  if (entries > kMaxObjrefBindingEntries) {
    return Invalid(
        r.Error(RPC_E_INVALID_OBJREF,
                "saResAddr has " + std::to_string(entries) +
                    " entries, more than the " +
                    std::to_string(kMaxObjrefBindingEntries) + " allowed"),
        start);
  }
  OBJREF_READ(auto raw, r.Bytes(size_t{entries} * 2));
  std::vector<uint16_t> array(entries);
  for (size_t i = 0; i < entries; ++i) {
    array[i] = static_cast<uint16_t>(raw[2 * i] | raw[2 * i + 1] << 8);
  }
  auto bindings = OxidBindings::Decode(security_offset, array);
  if (!bindings.ok()) {
    return Status(RPC_E_INVALID_OBJREF,
                  "OBJREF saResAddr at offset " + std::to_string(start) + ": " +
                      std::string(bindings.status().message()))
        .WithPosition(start);
  }
  return std::move(bindings).value();
}

Status ExpectSignature(ByteReader& r, const char* field) {
  const size_t at = r.offset();
  OBJREF_READ(uint32_t v, r.U32Le());
  if (v != kObjrefExtendedSignature) {
    return Status(RPC_E_INVALID_OBJREF,
                  std::string("OBJREF: ") + field + " is " + Hex32(v) +
                      ", not 0x4e535956, at offset " + std::to_string(at))
        .WithPosition(at);
  }
  return Status();
}

// [MS-DCOM] 2.2.18.8
Result<DataElement> ReadDataElement(ByteReader& r) {
  DataElement e;
  OBJREF_READ(e.data_id, ReadGuid(r));
  const size_t at = r.offset();
  OBJREF_READ(uint32_t size, r.U32Le());
  OBJREF_READ(uint32_t rounded, r.U32Le());
  if (size > kMaxObjrefElementData) {
    return Invalid(r.Error(RPC_E_INVALID_OBJREF,
                           "DATAELEMENT cbSize " + std::to_string(size) +
                               " is past the limit of " +
                               std::to_string(kMaxObjrefElementData)),
                   at);
  }
  if (rounded < size) {
    return Invalid(r.Error(RPC_E_INVALID_OBJREF,
                           "DATAELEMENT cbRounded " + std::to_string(rounded) +
                               " is less than cbSize " + std::to_string(size)),
                   at);
  }
  OBJREF_READ(auto data, r.Bytes(rounded));
  e.data.assign(data.begin(), data.begin() + size);
  return e;
}

void WriteGuid(ByteWriter& w, const Guid& g) { w.Bytes(g.ToBytes()); }

void WriteU64(ByteWriter& w, uint64_t v) {
  w.U32Le(static_cast<uint32_t>(v));
  w.U32Le(static_cast<uint32_t>(v >> 32));
}

void WriteStdObjref(ByteWriter& w, const StdObjref& s) {
  w.U32Le(s.flags);
  w.U32Le(s.public_refs);
  WriteU64(w, s.oxid);
  WriteU64(w, s.oid);
  WriteGuid(w, s.ipid);
}

void WriteDualStringArray(ByteWriter& w, const OxidBindings& b) {
  uint16_t security_offset = 0;
  const std::vector<uint16_t> array = b.Encode(&security_offset);
  COMSEC_CHECK(
      array.size() <= 0xFFFF,
      "DUALSTRINGARRAY of " + std::to_string(array.size()) + " entries");
  w.U16Le(static_cast<uint16_t>(array.size()));
  w.U16Le(security_offset);
  for (uint16_t v : array) w.U16Le(v);
}

}  // namespace

Result<Objref> DecodeObjref(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "OBJREF");
  Objref o;
  OBJREF_READ(uint32_t signature, r.U32Le());
  if (signature != kObjrefSignature) {
    return Status(RPC_E_INVALID_OBJREF, "OBJREF: signature " +
                                            Hex32(signature) +
                                            " is not 0x574f454d (\"MEOW\")")
        .WithPosition(0);
  }
  OBJREF_READ(uint32_t flags, r.U32Le());
  switch (flags) {
    case OBJREF_STANDARD:
    case OBJREF_HANDLER:
    case OBJREF_CUSTOM:
    case OBJREF_EXTENDED:
      o.type = static_cast<ObjrefType>(flags);
      break;
    default:
      return Status(RPC_E_INVALID_OBJREF,
                    "OBJREF: flags " + Hex32(flags) +
                        " is not one of OBJREF_STANDARD, "
                        "OBJREF_HANDLER, OBJREF_CUSTOM, OBJREF_EXTENDED")
          .WithPosition(4);
  }
  OBJREF_READ(o.iid, ReadGuid(r));

  switch (o.type) {
    case OBJREF_STANDARD: {  // [MS-DCOM] 2.2.18.4
      OBJREF_READ(o.std, ReadStdObjref(r));
      OBJREF_READ(o.resolver, ReadDualStringArray(r));
      break;
    }
    case OBJREF_HANDLER: {  // 2.2.18.5
      OBJREF_READ(o.std, ReadStdObjref(r));
      OBJREF_READ(o.clsid, ReadGuid(r));
      OBJREF_READ(o.resolver, ReadDualStringArray(r));
      break;
    }
    case OBJREF_CUSTOM: {  // 2.2.18.6
      OBJREF_READ(o.clsid, ReadGuid(r));
      OBJREF_READ(o.custom_extension, r.U32Le());
      OBJREF_READ(uint32_t reserved, r.U32Le());  // ignored on receipt
      (void)reserved;
      if (r.remaining() > kMaxObjrefCustomData) {
        return Invalid(
            r.Error(RPC_E_INVALID_OBJREF,
                    "custom pObjectData of " + std::to_string(r.remaining()) +
                        " bytes is past the limit of " +
                        std::to_string(kMaxObjrefCustomData)),
            r.offset());
      }
      const auto rest = r.rest();
      o.custom_data.assign(rest.begin(), rest.end());
      break;
    }
    case OBJREF_EXTENDED: {  // 2.2.18.7
      OBJREF_READ(o.std, ReadStdObjref(r));
      COMSEC_RETURN_IF_ERROR(ExpectSignature(r, "Signature1"));
      OBJREF_READ(o.resolver, ReadDualStringArray(r));
      const size_t at = r.offset();
      OBJREF_READ(uint32_t count, r.U32Le());
      if (count > kMaxObjrefElements) {
        return Status(RPC_E_INVALID_OBJREF,
                      "OBJREF: nElms " + std::to_string(count) +
                          " is past the limit of " +
                          std::to_string(kMaxObjrefElements) + ", at offset " +
                          std::to_string(at))
            .WithPosition(at);
      }
      COMSEC_RETURN_IF_ERROR(ExpectSignature(r, "Signature2"));
      for (uint32_t i = 0; i < count; ++i) {
        OBJREF_READ(DataElement e, ReadDataElement(r));
        o.elements.push_back(std::move(e));
      }
      break;
    }
  }
  return o;
}

std::vector<uint8_t> EncodeObjref(const Objref& o) {
  ByteWriter w(128);
  w.U32Le(kObjrefSignature);
  w.U32Le(o.type);
  WriteGuid(w, o.iid);
  switch (o.type) {
    case OBJREF_STANDARD:
      WriteStdObjref(w, o.std);
      WriteDualStringArray(w, o.resolver);
      break;
    case OBJREF_HANDLER:
      WriteStdObjref(w, o.std);
      WriteGuid(w, o.clsid);
      WriteDualStringArray(w, o.resolver);
      break;
    case OBJREF_CUSTOM:
      COMSEC_CHECK(o.custom_data.size() <= 0xFFFFFFFFu - 8,
                   "custom data too large");
      WriteGuid(w, o.clsid);
      w.U32Le(0);  // cbExtension: "MUST be set to zero when sent"
      // reserved: "any arbitrary value"; Windows-shaped senders write the
      // data's size + 8 (the fixture's 0x178 for 0x170 bytes).
      w.U32Le(static_cast<uint32_t>(o.custom_data.size() + 8));
      w.Bytes(o.custom_data);
      break;
    case OBJREF_EXTENDED:
      WriteStdObjref(w, o.std);
      w.U32Le(kObjrefExtendedSignature);
      WriteDualStringArray(w, o.resolver);
      w.U32Le(static_cast<uint32_t>(o.elements.size()));
      w.U32Le(kObjrefExtendedSignature);
      for (const DataElement& e : o.elements) {
        COMSEC_CHECK(e.data.size() <= 0xFFFFFFF0u, "DATAELEMENT too large");
        const size_t rounded = (e.data.size() + 7) & ~size_t{7};
        WriteGuid(w, e.data_id);
        w.U32Le(static_cast<uint32_t>(e.data.size()));
        w.U32Le(static_cast<uint32_t>(rounded));
        w.Bytes(e.data);
        w.Zeros(rounded - e.data.size());
      }
      break;
    default:
      COMSEC_CHECK(false, "EncodeObjref: OBJREF type " + Hex32(o.type) +
                              " is not one of the four");
  }
  return std::move(w).Take();
}

}  // namespace comsec::com
