#include "comsec/auth/negotiate/spnego_token.h"

namespace comsec::auth::negotiate {
namespace {

// ==== DER reading ===========================================================
// Invariant: a DerReader never reads outside its span; every element it
// returns lies wholly inside it, and `base_` is the span's offset in the
// whole token (for messages).

constexpr uint8_t kTagSequence = 0x30;
constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagBitString = 0x03;
constexpr uint8_t kTagEnumerated = 0x0a;
constexpr uint8_t kTagApplication0 = 0x60;
constexpr uint8_t ContextTag(int n) { return static_cast<uint8_t>(0xa0 + n); }

Status Invalid(const std::string& what, size_t offset) {
  return Status(SEC_E_INVALID_TOKEN,
                "malformed SPNEGO token: " + what + " at offset " + std::to_string(offset));
}

struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> content;
  std::span<const uint8_t> whole;  // tag to end
  size_t offset = 0;               // of the tag, in the token
};

class DerReader {
 public:
  DerReader(std::span<const uint8_t> bytes, size_t base) : bytes_(bytes), base_(base) {}

  bool done() const { return pos_ == bytes_.size(); }
  // REQUIRES: !done().
  uint8_t PeekTag() const { return bytes_[pos_]; }

  Result<Tlv> Read(const std::string& what) {
    const size_t start = pos_;
    if (bytes_.size() - pos_ < 2) return Invalid(what + " is truncated", base_ + start);
    Tlv t;
    t.tag = bytes_[pos_++];
    t.offset = base_ + start;
    if ((t.tag & 0x1f) == 0x1f) return Invalid(what + " has a multi-byte tag", t.offset);
    size_t length = bytes_[pos_++];
    if (length == 0x80) return Invalid(what + " has an indefinite length", t.offset);
    if (length > 0x80) {
      const size_t n = length & 0x7f;
      if (n > 4) return Invalid(what + " has a length of " + std::to_string(n) + " bytes", t.offset);
      if (bytes_.size() - pos_ < n) return Invalid(what + "'s length is truncated", t.offset);
      length = 0;
      for (size_t i = 0; i < n; ++i) length = (length << 8) | bytes_[pos_++];
    }
    if (length > bytes_.size() - pos_) {
      return Invalid(what + " claims " + std::to_string(length) + " bytes where " +
                         std::to_string(bytes_.size() - pos_) + " remain",
                     t.offset);
    }
    t.content = bytes_.subspan(pos_, length);
    pos_ += length;
    t.whole = bytes_.subspan(start, pos_ - start);
    return t;
  }

  Result<Tlv> Read(uint8_t tag, const std::string& what) {
    if (done()) return Invalid(what + " is missing", base_ + pos_);
    COMSEC_ASSIGN_OR_RETURN(Tlv t, Read(what));
    if (t.tag != tag) {
      return Invalid(what + " has tag 0x" + Hex(t.tag) + " (expected 0x" + Hex(tag) + ")",
                     t.offset);
    }
    return t;
  }

  Status ExpectEnd(const std::string& what) const {
    if (!done()) return Invalid(std::to_string(bytes_.size() - pos_) + " bytes follow " + what, base_ + pos_);
    return Status::Ok();
  }

 private:
  static std::string Hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }

  std::span<const uint8_t> bytes_;
  size_t base_;
  size_t pos_ = 0;
};

// A reader over an element's contents.
DerReader Inside(const Tlv& t) {
  return DerReader(t.content, t.offset + (t.whole.size() - t.content.size()));
}

// [n] EXPLICIT holding exactly one element of `tag`.
Result<Tlv> Explicit(const Tlv& outer, uint8_t tag, const std::string& what) {
  DerReader r = Inside(outer);
  COMSEC_ASSIGN_OR_RETURN(Tlv inner, r.Read(tag, what));
  COMSEC_RETURN_IF_ERROR(r.ExpectEnd(what));
  return inner;
}

Status CheckOid(const Tlv& t, const SpnegoLimits& limits, const std::string& what) {
  if (t.content.empty()) return Invalid(what + " is an empty OID", t.offset);
  if (t.content.size() > limits.max_oid_bytes) {
    return Invalid(what + " is an OID of " + std::to_string(t.content.size()) + " bytes (at most " +
                       std::to_string(limits.max_oid_bytes) + ")",
                   t.offset);
  }
  if (t.content.back() & 0x80) return Invalid(what + " ends inside an arc", t.offset);
  return Status::Ok();
}

std::vector<uint8_t> Bytes(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

Status CheckSize(std::span<const uint8_t> token, const SpnegoLimits& limits) {
  if (token.size() > limits.max_token_bytes) {
    return Status(SEC_E_INVALID_TOKEN, "SPNEGO token of " + std::to_string(token.size()) +
                                           " bytes (at most " +
                                           std::to_string(limits.max_token_bytes) + ")");
  }
  return Status::Ok();
}

// ==== DER writing ===========================================================

void PutLength(std::vector<uint8_t>& out, size_t n) {
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
    return;
  }
  uint8_t bytes[4];
  int count = 0;
  for (size_t v = n; v != 0; v >>= 8) bytes[count++] = static_cast<uint8_t>(v);
  out.push_back(static_cast<uint8_t>(0x80 | count));
  while (count > 0) out.push_back(bytes[--count]);
}

std::vector<uint8_t> Element(uint8_t tag, std::span<const uint8_t> content) {
  std::vector<uint8_t> out{tag};
  PutLength(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

void Append(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace

// ==== OIDs ==================================================================

const Oid& SpnegoOid() {
  static const Oid oid{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
  return oid;
}
const Oid& KerberosOid() {
  static const Oid oid{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
  return oid;
}
const Oid& MsKerberosOid() {
  static const Oid oid{0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
  return oid;
}
const Oid& NtlmOid() {
  static const Oid oid{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
  return oid;
}

std::string OidToString(std::span<const uint8_t> oid) {
  if (oid.empty() || (oid.back() & 0x80) || oid.size() > 64) return "(invalid OID)";
  std::string text;
  uint64_t arc = 0;
  bool first = true;
  for (uint8_t b : oid) {
    arc = (arc << 7) | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      text = std::to_string(top) + "." + std::to_string(arc - 40 * top);
      first = false;
    } else {
      text += "." + std::to_string(arc);
    }
    arc = 0;
  }
  return text;
}

// ==== Encoding ==============================================================

std::vector<uint8_t> EncodeMechTypeList(const std::vector<Oid>& mechs) {
  std::vector<uint8_t> list;
  for (const Oid& m : mechs) Append(list, Element(kTagOid, m));
  return Element(kTagSequence, list);
}

std::vector<uint8_t> EncodeInitialToken(const NegTokenInit& init) {
  std::vector<uint8_t> seq = Element(ContextTag(0), EncodeMechTypeList(init.mech_types));
  if (init.req_flags) Append(seq, Element(ContextTag(1), Element(kTagBitString, *init.req_flags)));
  if (init.mech_token) {
    Append(seq, Element(ContextTag(2), Element(kTagOctetString, *init.mech_token)));
  }
  if (init.mech_list_mic) {
    Append(seq, Element(ContextTag(3), Element(kTagOctetString, *init.mech_list_mic)));
  }
  std::vector<uint8_t> inner = Element(kTagOid, SpnegoOid());
  Append(inner, Element(ContextTag(0), Element(kTagSequence, seq)));
  return Element(kTagApplication0, inner);
}

std::vector<uint8_t> EncodeNegTokenResp(const NegTokenResp& resp) {
  std::vector<uint8_t> seq;
  if (resp.neg_state) {
    const uint8_t state = static_cast<uint8_t>(*resp.neg_state);
    Append(seq, Element(ContextTag(0), Element(kTagEnumerated, std::span<const uint8_t>(&state, 1))));
  }
  if (resp.supported_mech) {
    Append(seq, Element(ContextTag(1), Element(kTagOid, *resp.supported_mech)));
  }
  if (resp.response_token) {
    Append(seq, Element(ContextTag(2), Element(kTagOctetString, *resp.response_token)));
  }
  if (resp.mech_list_mic) {
    Append(seq, Element(ContextTag(3), Element(kTagOctetString, *resp.mech_list_mic)));
  }
  return Element(ContextTag(1), Element(kTagSequence, seq));
}

// ==== Decoding ==============================================================

Result<NegTokenInit> DecodeInitialToken(std::span<const uint8_t> token,
                                        const SpnegoLimits& limits) {
  COMSEC_RETURN_IF_ERROR(CheckSize(token, limits));
  DerReader top(token, 0);
  COMSEC_ASSIGN_OR_RETURN(Tlv app, top.Read(kTagApplication0, "the InitialContextToken"));
  COMSEC_RETURN_IF_ERROR(top.ExpectEnd("the InitialContextToken"));
  DerReader r = Inside(app);
  COMSEC_ASSIGN_OR_RETURN(Tlv mech, r.Read(kTagOid, "thisMech"));
  if (Bytes(mech.content) != SpnegoOid()) {
    return Invalid("thisMech is " + OidToString(mech.content) + ", not SPNEGO (1.3.6.1.5.5.2)",
                   mech.offset);
  }
  COMSEC_ASSIGN_OR_RETURN(Tlv choice, r.Read(ContextTag(0), "the negTokenInit choice"));
  COMSEC_RETURN_IF_ERROR(r.ExpectEnd("the negTokenInit"));
  COMSEC_ASSIGN_OR_RETURN(Tlv seq, Explicit(choice, kTagSequence, "NegTokenInit"));

  NegTokenInit init;
  DerReader fields = Inside(seq);
  int last = -1;
  bool have_mechs = false;
  while (!fields.done()) {
    COMSEC_ASSIGN_OR_RETURN(Tlv f, fields.Read("a NegTokenInit field"));
    const int n = f.tag - 0xa0;
    if (n < 0 || n > 4) return Invalid("NegTokenInit has an unknown field", f.offset);
    if (n <= last) return Invalid("NegTokenInit's fields are out of order or repeated", f.offset);
    last = n;
    switch (n) {
      case 0: {
        COMSEC_ASSIGN_OR_RETURN(Tlv list, Explicit(f, kTagSequence, "mechTypes"));
        DerReader oids = Inside(list);
        while (!oids.done()) {
          COMSEC_ASSIGN_OR_RETURN(Tlv oid, oids.Read(kTagOid, "a mechType"));
          COMSEC_RETURN_IF_ERROR(CheckOid(oid, limits, "a mechType"));
          if (init.mech_types.size() == limits.max_mechanisms) {
            return Invalid("mechTypes lists more than " + std::to_string(limits.max_mechanisms) +
                               " mechanisms",
                           oid.offset);
          }
          init.mech_types.push_back(Bytes(oid.content));
        }
        if (init.mech_types.empty()) return Invalid("mechTypes is empty", list.offset);
        init.mech_types_der = Bytes(list.whole);
        have_mechs = true;
        break;
      }
      case 1: {
        COMSEC_ASSIGN_OR_RETURN(Tlv flags, Explicit(f, kTagBitString, "reqFlags"));
        init.req_flags = Bytes(flags.content);
        break;
      }
      case 2: {
        COMSEC_ASSIGN_OR_RETURN(Tlv t, Explicit(f, kTagOctetString, "mechToken"));
        init.mech_token = Bytes(t.content);
        break;
      }
      case 3: {
        // RFC 4178's mechListMIC, or [MS-SPNG]'s negHints (a SEQUENCE).
        DerReader peek = Inside(f);
        if (!peek.done() && peek.PeekTag() == kTagSequence) {
          COMSEC_RETURN_IF_ERROR(Explicit(f, kTagSequence, "negHints").status());
          break;
        }
        COMSEC_ASSIGN_OR_RETURN(Tlv t, Explicit(f, kTagOctetString, "mechListMIC"));
        init.mech_list_mic = Bytes(t.content);
        break;
      }
      case 4: {
        if (init.mech_list_mic) return Invalid("NegTokenInit has two mechListMICs", f.offset);
        COMSEC_ASSIGN_OR_RETURN(Tlv t, Explicit(f, kTagOctetString, "mechListMIC"));
        init.mech_list_mic = Bytes(t.content);
        break;
      }
    }
  }
  if (!have_mechs) return Invalid("NegTokenInit has no mechTypes", seq.offset);
  return init;
}

Result<NegTokenResp> DecodeNegTokenResp(std::span<const uint8_t> token,
                                        const SpnegoLimits& limits) {
  COMSEC_RETURN_IF_ERROR(CheckSize(token, limits));
  DerReader top(token, 0);
  COMSEC_ASSIGN_OR_RETURN(Tlv choice, top.Read(ContextTag(1), "the negTokenResp choice"));
  COMSEC_RETURN_IF_ERROR(top.ExpectEnd("the negTokenResp"));
  COMSEC_ASSIGN_OR_RETURN(Tlv seq, Explicit(choice, kTagSequence, "NegTokenResp"));
  NegTokenResp resp;
  DerReader fields = Inside(seq);
  int last = -1;
  while (!fields.done()) {
    COMSEC_ASSIGN_OR_RETURN(Tlv f, fields.Read("a NegTokenResp field"));
    const int n = f.tag - 0xa0;
    if (n < 0 || n > 3) return Invalid("NegTokenResp has an unknown field", f.offset);
    if (n <= last) return Invalid("NegTokenResp's fields are out of order or repeated", f.offset);
    last = n;
    switch (n) {
      case 0: {
        COMSEC_ASSIGN_OR_RETURN(Tlv e, Explicit(f, kTagEnumerated, "negState"));
        if (e.content.size() != 1 || e.content[0] > 3) {
          return Invalid("negState is not one of accept-completed, accept-incomplete, reject, "
                         "request-mic",
                         e.offset);
        }
        resp.neg_state = static_cast<NegState>(e.content[0]);
        break;
      }
      case 1: {
        COMSEC_ASSIGN_OR_RETURN(Tlv oid, Explicit(f, kTagOid, "supportedMech"));
        COMSEC_RETURN_IF_ERROR(CheckOid(oid, limits, "supportedMech"));
        resp.supported_mech = Bytes(oid.content);
        break;
      }
      case 2: {
        COMSEC_ASSIGN_OR_RETURN(Tlv t, Explicit(f, kTagOctetString, "responseToken"));
        resp.response_token = Bytes(t.content);
        break;
      }
      case 3: {
        COMSEC_ASSIGN_OR_RETURN(Tlv t, Explicit(f, kTagOctetString, "mechListMIC"));
        resp.mech_list_mic = Bytes(t.content);
        break;
      }
    }
  }
  return resp;
}

}  // namespace comsec::auth::negotiate
