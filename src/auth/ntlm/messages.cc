#include "comsec/auth/ntlm/messages.h"

#include <algorithm>
#include <cstring>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/utf16.h"

namespace comsec::auth::ntlm {
namespace {

constexpr uint8_t kSignature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

Status Bad(std::string message) {
  return Status(SEC_E_INVALID_TOKEN, std::move(message));
}

// A payload field (Len, MaxLen, BufferOffset) resolved against the whole
// message.
Result<std::span<const uint8_t>> Field(std::span<const uint8_t> msg,
                                       size_t at, const char* name) {
  ByteReader r(msg.subspan(at), "NTLM message field");
  COMSEC_ASSIGN_OR_RETURN(uint16_t len, r.U16Le());
  COMSEC_ASSIGN_OR_RETURN(uint16_t max_len, r.U16Le());
  COMSEC_ASSIGN_OR_RETURN(uint32_t offset, r.U32Le());
  (void)max_len;  // MS-NLMP: MaxLen SHOULD equal Len and MUST be ignored
  if (len == 0) return std::span<const uint8_t>();
  if (offset > msg.size() || len > msg.size() - offset) {
    return Bad(std::string("NTLM ") + name + " field (offset " +
               std::to_string(offset) + ", length " + std::to_string(len) +
               ") lies outside the " + std::to_string(msg.size()) +
               "-byte message");
  }
  return msg.subspan(offset, len);
}

Status CheckHeader(std::span<const uint8_t> msg, uint32_t type,
                   size_t fixed_size, const char* name) {
  if (msg.size() < fixed_size) {
    return Bad(std::string("NTLM ") + name + " message of " +
               std::to_string(msg.size()) + " bytes is shorter than its " +
               std::to_string(fixed_size) + "-byte header");
  }
  if (std::memcmp(msg.data(), kSignature, 8) != 0) {
    return Bad("not an NTLMSSP message (bad signature)");
  }
  const uint32_t got = uint32_t{msg[8]} | uint32_t{msg[9]} << 8 |
                       uint32_t{msg[10]} << 16 | uint32_t{msg[11]} << 24;
  if (got != type) {
    return Bad(std::string("expected an NTLM ") + name + " message (type " +
               std::to_string(type) + "), got type " + std::to_string(got));
  }
  return Status::Ok();
}

uint32_t U32At(std::span<const uint8_t> m, size_t at) {
  return uint32_t{m[at]} | uint32_t{m[at + 1]} << 8 | uint32_t{m[at + 2]} << 16 |
         uint32_t{m[at + 3]} << 24;
}

// The smallest offset of a non-empty payload field among `fields` (each a
// Len/MaxLen/Offset triple inside `m`), or the message size when none.
size_t PayloadStart(std::span<const uint8_t> m, std::initializer_list<size_t> fields) {
  size_t start = m.size();
  for (size_t at : fields) {
    if (at + 8 > m.size()) continue;
    const uint16_t len = uint16_t(m[at] | m[at + 1] << 8);
    if (len != 0) start = std::min<size_t>(start, U32At(m, at + 4));
  }
  return start;
}

// Lays out fixed fields then payloads: each payload's (Len, MaxLen,
// Offset) is patched at `field_at` when its bytes are appended.
class PayloadWriter {
 public:
  explicit PayloadWriter(ByteWriter& w) : w_(w) {}
  void Reserve(size_t field_at, std::span<const uint8_t> bytes) {
    pending_.push_back({field_at, std::vector<uint8_t>(bytes.begin(), bytes.end())});
  }
  void Flush() {
    for (auto& p : pending_) {
      const size_t offset = w_.bytes().size();
      w_.PatchU16Le(p.field_at, static_cast<uint16_t>(p.bytes.size()));
      w_.PatchU16Le(p.field_at + 2, static_cast<uint16_t>(p.bytes.size()));
      w_.PatchU32Le(p.field_at + 4, static_cast<uint32_t>(offset));
      w_.Bytes(p.bytes);
    }
  }

 private:
  struct Pending {
    size_t field_at;
    std::vector<uint8_t> bytes;
  };
  ByteWriter& w_;
  std::vector<Pending> pending_;
};

void Header(ByteWriter& w, uint32_t type) {
  w.Bytes(kSignature);
  w.U32Le(type);
}

bool OnceOnly(AvId id) {
  return id != AvId::kEol;  // every defined id appears at most once
}

}  // namespace

// ==== AV pairs ==============================================================

Result<AvPairs> AvPairs::Decode(std::span<const uint8_t> bytes) {
  AvPairs out;
  ByteReader r(bytes, "NTLM AV_PAIR list");
  while (true) {
    if (r.remaining() < 4) {
      return Bad("NTLM AV_PAIR list ends without MsvAvEOL at offset " +
                 std::to_string(r.offset()));
    }
    COMSEC_ASSIGN_OR_RETURN(uint16_t id, r.U16Le());
    COMSEC_ASSIGN_OR_RETURN(uint16_t len, r.U16Le());
    if (len > r.remaining()) {
      return Bad("NTLM AV_PAIR " + std::to_string(id) + " of " +
                 std::to_string(len) + " bytes overruns the list at offset " +
                 std::to_string(r.offset()));
    }
    COMSEC_ASSIGN_OR_RETURN(auto value, r.Bytes(len));
    if (id == 0) {
      if (len != 0) return Bad("NTLM MsvAvEOL with a non-empty value");
      break;  // bytes after EOL (the blob's padding) are not part of the list
    }
    const AvId av = static_cast<AvId>(id);
    if (OnceOnly(av) && out.Find(av) != nullptr) {
      return Bad("NTLM AV_PAIR " + std::to_string(id) + " appears twice");
    }
    if ((av == AvId::kFlags && len != 4) || (av == AvId::kTimestamp && len != 8)) {
      return Bad("NTLM AV_PAIR " + std::to_string(id) + " has length " +
                 std::to_string(len));
    }
    out.pairs.push_back({av, std::vector<uint8_t>(value.begin(), value.end())});
  }
  return out;
}

std::vector<uint8_t> AvPairs::Encode() const {
  ByteWriter w;
  for (const AvPair& p : pairs) {
    w.U16Le(static_cast<uint16_t>(p.id));
    w.U16Le(static_cast<uint16_t>(p.value.size()));
    w.Bytes(p.value);
  }
  w.U32Le(0);  // MsvAvEOL
  return std::move(w).Take();
}

const AvPair* AvPairs::Find(AvId id) const {
  for (const AvPair& p : pairs) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

void AvPairs::Set(AvId id, std::vector<uint8_t> value) {
  for (AvPair& p : pairs) {
    if (p.id == id) {
      p.value = std::move(value);
      return;
    }
  }
  pairs.push_back({id, std::move(value)});
}

void AvPairs::SetString(AvId id, std::u16string_view value) {
  Set(id, ToUtf16Le(value));
}

std::optional<uint32_t> AvPairs::Flags() const {
  const AvPair* p = Find(AvId::kFlags);
  if (p == nullptr || p->value.size() != 4) return std::nullopt;
  return U32At(p->value, 0);
}

// ==== NEGOTIATE =============================================================

Result<NegotiateMessage> NegotiateMessage::Decode(std::span<const uint8_t> m) {
  COMSEC_RETURN_IF_ERROR(CheckHeader(m, 1, 16, "NEGOTIATE"));
  NegotiateMessage out;
  out.flags = U32At(m, 12);
  // Version 1 clients stop after the flags; domain and workstation fields
  // are present from 32 bytes on, the version from 40.
  if (m.size() >= 32) {
    if (out.flags & NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED) {
      COMSEC_ASSIGN_OR_RETURN(auto d, Field(m, 16, "DomainName"));
      out.domain.assign(d.begin(), d.end());
    }
    if (out.flags & NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) {
      COMSEC_ASSIGN_OR_RETURN(auto ws, Field(m, 24, "Workstation"));
      out.workstation.assign(ws.begin(), ws.end());
    }
  }
  // The Version lies between the fixed fields and the payload: present only
  // when the first payload starts after it.
  if ((out.flags & NTLMSSP_NEGOTIATE_VERSION) && m.size() >= 40 &&
      PayloadStart(m, {16, 24}) >= 40) {
    Version v;
    std::copy_n(m.begin() + 32, 8, v.begin());
    out.version = v;
  }
  return out;
}

std::vector<uint8_t> NegotiateMessage::Encode() const {
  ByteWriter w;
  Header(w, 1);
  w.U32Le(flags);
  w.Zeros(16);  // domain and workstation fields, patched below
  PayloadWriter p(w);
  if (version) {
    w.Bytes(*version);
  }
  if (!domain.empty()) {
    p.Reserve(16, std::span(reinterpret_cast<const uint8_t*>(domain.data()),
                            domain.size()));
  }
  if (!workstation.empty()) {
    p.Reserve(24, std::span(reinterpret_cast<const uint8_t*>(workstation.data()),
                            workstation.size()));
  }
  p.Flush();
  return std::move(w).Take();
}

// ==== CHALLENGE =============================================================

Result<ChallengeMessage> ChallengeMessage::Decode(std::span<const uint8_t> m) {
  COMSEC_RETURN_IF_ERROR(CheckHeader(m, 2, 32, "CHALLENGE"));
  ChallengeMessage out;
  out.flags = U32At(m, 20);
  std::copy_n(m.begin() + 24, 8, out.server_challenge.begin());
  COMSEC_ASSIGN_OR_RETURN(auto target, Field(m, 12, "TargetName"));
  if (target.size() % 2 != 0 && (out.flags & NTLMSSP_NEGOTIATE_UNICODE)) {
    return Bad("NTLM CHALLENGE TargetName has an odd length");
  }
  out.target_name = FromUtf16Le(target);
  if (m.size() >= 48) {
    COMSEC_ASSIGN_OR_RETURN(auto info, Field(m, 40, "TargetInfo"));
    out.target_info.assign(info.begin(), info.end());
    if (!out.target_info.empty()) {
      COMSEC_RETURN_IF_ERROR(AvPairs::Decode(out.target_info).status());
    }
  }
  if ((out.flags & NTLMSSP_NEGOTIATE_VERSION) && m.size() >= 56 &&
      PayloadStart(m, {12, 40}) >= 56) {
    Version v;
    std::copy_n(m.begin() + 48, 8, v.begin());
    out.version = v;
  }
  return out;
}

std::vector<uint8_t> ChallengeMessage::Encode() const {
  ByteWriter w;
  Header(w, 2);
  w.Zeros(8);  // TargetName field
  w.U32Le(flags);
  w.Bytes(server_challenge);
  w.Zeros(8);  // Reserved
  w.Zeros(8);  // TargetInfo field
  w.Bytes(version.value_or(Version{}));
  PayloadWriter p(w);
  auto name = ToUtf16Le(target_name);
  p.Reserve(12, name);
  p.Reserve(40, target_info);
  p.Flush();
  return std::move(w).Take();
}

// ==== AUTHENTICATE ==========================================================

Result<AuthenticateMessage> AuthenticateMessage::Decode(
    std::span<const uint8_t> m) {
  COMSEC_RETURN_IF_ERROR(CheckHeader(m, 3, 64, "AUTHENTICATE"));
  AuthenticateMessage out;
  out.flags = U32At(m, 60);
  if (!(out.flags & NTLMSSP_NEGOTIATE_UNICODE)) {
    return Bad("NTLM AUTHENTICATE without NTLMSSP_NEGOTIATE_UNICODE (OEM "
               "strings are not accepted)");
  }
  struct Spec {
    size_t at;
    const char* name;
  };
  static constexpr Spec kFields[] = {{12, "LmChallengeResponse"},
                                     {20, "NtChallengeResponse"},
                                     {28, "DomainName"},
                                     {36, "UserName"},
                                     {44, "Workstation"},
                                     {52, "EncryptedRandomSessionKey"}};
  std::span<const uint8_t> f[6];
  // The payload begins at the smallest offset of a non-empty field; the
  // fixed part (Version, MIC) can only be that long.
  size_t payload_start = m.size();
  for (int i = 0; i < 6; ++i) {
    COMSEC_ASSIGN_OR_RETURN(f[i], Field(m, kFields[i].at, kFields[i].name));
    if (!f[i].empty()) {
      payload_start = std::min<size_t>(payload_start, U32At(m, kFields[i].at + 4));
    }
  }
  if (payload_start < 64) {
    return Bad("NTLM AUTHENTICATE payload overlaps its fixed header (offset " +
               std::to_string(payload_start) + ")");
  }
  for (int i : {2, 3, 4}) {
    if (f[i].size() % 2 != 0) {
      return Bad(std::string("NTLM AUTHENTICATE ") + kFields[i].name +
                 " has an odd length for UTF-16");
    }
  }
  out.lm_response.assign(f[0].begin(), f[0].end());
  out.nt_response.assign(f[1].begin(), f[1].end());
  out.domain = FromUtf16Le(f[2]);
  out.user = FromUtf16Le(f[3]);
  out.workstation = FromUtf16Le(f[4]);
  out.encrypted_session_key.assign(f[5].begin(), f[5].end());
  if (payload_start >= 72) {
    Version v;
    std::copy_n(m.begin() + 64, 8, v.begin());
    out.version = v;
  }
  if (payload_start >= kMicOffset + 16) {
    std::array<uint8_t, 16> mic;
    std::copy_n(m.begin() + kMicOffset, 16, mic.begin());
    out.mic = mic;
  }
  return out;
}

std::vector<uint8_t> AuthenticateMessage::Encode(bool with_mic) const {
  ByteWriter w;
  Header(w, 3);
  w.Zeros(48);  // six fields
  w.U32Le(flags);
  w.Bytes(version.value_or(kOurVersion));
  if (with_mic) w.Bytes(mic.value_or(std::array<uint8_t, 16>{}));
  PayloadWriter p(w);
  auto domain16 = ToUtf16Le(domain);
  auto user16 = ToUtf16Le(user);
  auto ws16 = ToUtf16Le(workstation);
  p.Reserve(28, domain16);
  p.Reserve(36, user16);
  p.Reserve(44, ws16);
  p.Reserve(12, lm_response);
  p.Reserve(20, nt_response);
  p.Reserve(52, encrypted_session_key);
  p.Flush();
  return std::move(w).Take();
}

// ==== Strings ===============================================================

std::vector<uint8_t> ToUtf16Le(std::u16string_view s) {
  std::vector<uint8_t> out;
  out.reserve(s.size() * 2);
  for (char16_t c : s) {
    out.push_back(static_cast<uint8_t>(c));
    out.push_back(static_cast<uint8_t>(c >> 8));
  }
  return out;
}

std::u16string FromUtf16Le(std::span<const uint8_t> b) {
  std::u16string out;
  out.reserve(b.size() / 2);
  for (size_t i = 0; i + 1 < b.size(); i += 2) {
    out.push_back(static_cast<char16_t>(b[i] | b[i + 1] << 8));
  }
  return out;
}

std::u16string Utf8ToUtf16(std::string_view s) { return Utf8ToUtf16Lossy(s); }

std::string Utf16ToUtf8(std::u16string_view s) { return Utf16ToUtf8Lossy(s); }

}  // namespace comsec::auth::ntlm
