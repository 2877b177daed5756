#include "comsec/security/sid.h"

#include <cstdio>

#include "comsec/base/check.h"
#include "comsec/base/hex.h"
#include "comsec/base/win32_error.h"

namespace comsec::security {
namespace {

Status SidError(std::string_view text, size_t pos, std::string_view what) {
  std::string m = "SID \"";
  m += text;
  m += "\": ";
  m += what;
  m += " at character ";
  m += std::to_string(pos + 1);
  return Status(ERROR_INVALID_SID, std::move(m)).WithPosition(pos);
}

// Parses an unsigned decimal or 0x-hex number starting at `pos` and
// running to the next '-' or the end ([MS-DTYP] 2.4.2.1: the authority may
// be written in hex, the revision and sub-authorities are decimal).
Result<uint64_t> ParseNumber(std::string_view text, size_t& pos, uint64_t max,
                             bool allow_hex) {
  const size_t start = pos;
  size_t end = text.find('-', pos);
  if (end == std::string_view::npos) end = text.size();
  auto value = ParseUnsigned(text.substr(start, end - start),
                             allow_hex ? NumberBase::kDecimalOrHex : NumberBase::kDecimal, max);
  if (!value.ok()) {
    return SidError(text, start + *value.status().position(), value.status().message());
  }
  pos = end;
  return value;
}

}  // namespace

Sid::Sid(uint64_t authority, std::initializer_list<uint32_t> subs)
    : Sid(authority, std::span<const uint32_t>(subs.begin(), subs.size())) {}

Sid::Sid(uint64_t authority, std::span<const uint32_t> subs) {
  COMSEC_CHECK(authority <= kMaxAuthority, "SID authority over 48 bits");
  COMSEC_CHECK(subs.size() <= kMaxSubAuthorities,
               "SID with more than 15 sub-authorities");
  authority_ = authority;
  count_ = static_cast<uint8_t>(subs.size());
  for (size_t i = 0; i < subs.size(); ++i) sub_[i] = subs[i];
  ComputeFingerprint();
}

void Sid::ComputeFingerprint() {
  // FNV-1a over the meaningful fields; only equality of fingerprints is used,
  // so any well-mixed function works.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
  };
  mix(authority_);
  mix(count_);
  for (int i = 0; i < count_; ++i) mix(sub_[i]);
  fingerprint_ = h;
}

Result<Sid> Sid::Parse(std::string_view text) {
  if (text.size() < 2 || (text[0] != 'S' && text[0] != 's') || text[1] != '-') {
    return SidError(text, 0, "must start with \"S-\"");
  }
  size_t pos = 2;
  COMSEC_ASSIGN_OR_RETURN(uint64_t revision,
                          ParseNumber(text, pos, 0xFF, false));
  if (revision != 1) return SidError(text, 2, "revision must be 1");
  if (pos >= text.size()) return SidError(text, pos, "identifier authority expected");
  ++pos;  // '-'
  COMSEC_ASSIGN_OR_RETURN(uint64_t authority,
                          ParseNumber(text, pos, kMaxAuthority, true));
  std::array<uint32_t, kMaxSubAuthorities> subs{};
  size_t count = 0;
  while (pos < text.size()) {
    ++pos;  // '-'
    if (count == kMaxSubAuthorities) {
      return SidError(text, pos, "more than 15 sub-authorities");
    }
    COMSEC_ASSIGN_OR_RETURN(uint64_t sub,
                            ParseNumber(text, pos, 0xFFFFFFFFu, false));
    subs[count++] = static_cast<uint32_t>(sub);
  }
  return Sid(authority, std::span<const uint32_t>(subs.data(), count));
}

Result<Sid> Sid::Decode(ByteReader& reader) {
  size_t start = reader.offset();
  COMSEC_ASSIGN_OR_RETURN(uint8_t revision, reader.U8());
  if (revision != 1) {
    return Status(ERROR_INVALID_SID,
                  "SID at offset " + std::to_string(start) +
                      " has revision " + std::to_string(revision) +
                      "; only 1 exists")
        .WithPosition(start);
  }
  COMSEC_ASSIGN_OR_RETURN(uint8_t count, reader.U8());
  if (count > kMaxSubAuthorities) {
    return Status(ERROR_INVALID_SID,
                  "SID at offset " + std::to_string(start) + " claims " +
                      std::to_string(count) +
                      " sub-authorities; at most 15 are allowed")
        .WithPosition(start + 1);
  }
  COMSEC_ASSIGN_OR_RETURN(uint64_t authority, reader.U48Be());
  std::array<uint32_t, kMaxSubAuthorities> subs{};
  for (int i = 0; i < count; ++i) {
    COMSEC_ASSIGN_OR_RETURN(subs[i], reader.U32Le());
  }
  return Sid(authority, std::span<const uint32_t>(subs.data(), count));
}

void Sid::EncodeTo(ByteWriter& w) const {
  w.U8(1);
  w.U8(count_);
  w.U48Be(authority_);
  for (int i = 0; i < count_; ++i) w.U32Le(sub_[i]);
}

std::string Sid::ToString() const {
  std::string s = "S-1-";
  if (authority_ >= (uint64_t{1} << 32)) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%012llX",
                  static_cast<unsigned long long>(authority_));
    s += buf;
  } else {
    s += std::to_string(authority_);
  }
  for (int i = 0; i < count_; ++i) {
    s += '-';
    s += std::to_string(sub_[i]);
  }
  return s;
}

Sid Sid::WithRid(uint32_t rid) const {
  COMSEC_CHECK(count_ < kMaxSubAuthorities, "SID has no room for a RID");
  std::array<uint32_t, kMaxSubAuthorities> subs = sub_;
  subs[count_] = rid;
  return Sid(authority_, std::span<const uint32_t>(subs.data(), count_ + 1u));
}

bool Sid::IsInDomain(const Sid& domain) const {
  if (count_ != domain.count_ + 1 || authority_ != domain.authority_) {
    return false;
  }
  for (int i = 0; i < domain.count_; ++i) {
    if (sub_[i] != domain.sub_[i]) return false;
  }
  return true;
}

bool operator<(const Sid& a, const Sid& b) {
  if (a.authority_ != b.authority_) return a.authority_ < b.authority_;
  for (int i = 0; i < a.count_ && i < b.count_; ++i) {
    if (a.sub_[i] != b.sub_[i]) return a.sub_[i] < b.sub_[i];
  }
  return a.count_ < b.count_;
}

}  // namespace comsec::security
