// Sid: a Windows security identifier ([MS-DTYP] 2.4.2): revision 1, a 48-bit
// identifier authority and at most 15 32-bit sub-authorities.
//
// A Sid is a fixed-size value (no heap), with a 64-bit fingerprint computed
// at construction so that the access check can compare SIDs with one integer
// comparison before the full one. Text form "S-1-5-32-544" ([MS-DTYP]
// 2.4.2.1); binary form little-endian sub-authorities after a big-endian
// authority ([MS-DTYP] 2.4.2.2).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/result.h"

namespace comsec::security {

class Sid {
 public:
  // [MS-DTYP] 2.4.2: SID_MAX_SUB_AUTHORITIES.
  static constexpr int kMaxSubAuthorities = 15;
  // The identifier authority is 48 bits.
  static constexpr uint64_t kMaxAuthority = (uint64_t{1} << 48) - 1;

  // The null SID S-1-0-0.
  Sid() : Sid(0, {0}) {}
  // REQUIRES: authority <= kMaxAuthority and at most 15 sub-authorities
  // (callers holding untrusted data use Parse/Decode instead).
  Sid(uint64_t authority, std::initializer_list<uint32_t> sub_authorities);
  Sid(uint64_t authority, std::span<const uint32_t> sub_authorities);

  // Parses "S-1-..." ; the authority may be decimal or 0x-prefixed hex, the
  // hex form being required above 2^32 ([MS-DTYP] 2.4.2.1). Case-insensitive
  // "S". Errors name the character position.
  static Result<Sid> Parse(std::string_view text);
  // Reads one binary SID; fails when truncated, when the revision is not 1 or
  // when SubAuthorityCount > 15.
  static Result<Sid> Decode(ByteReader& reader);

  void EncodeTo(ByteWriter& writer) const;
  // 8 + 4 * sub_authority_count bytes.
  size_t EncodedSize() const { return 8 + 4 * size_t{count_}; }
  std::string ToString() const;

  uint64_t authority() const { return authority_; }
  int sub_authority_count() const { return count_; }
  uint32_t sub_authority(int i) const { return sub_[i]; }
  // The last sub-authority (the RID of an account SID); 0 when none.
  uint32_t Rid() const { return count_ ? sub_[count_ - 1] : 0; }
  // A new SID: this one with `rid` appended. REQUIRES: count < 15.
  Sid WithRid(uint32_t rid) const;
  // True when this SID is `domain` plus exactly one more sub-authority.
  bool IsInDomain(const Sid& domain) const;

  uint64_t fingerprint() const { return fingerprint_; }

  friend bool operator==(const Sid& a, const Sid& b) {
    if (a.fingerprint_ != b.fingerprint_ || a.count_ != b.count_ ||
        a.authority_ != b.authority_) {
      return false;
    }
    for (int i = 0; i < a.count_; ++i) {
      if (a.sub_[i] != b.sub_[i]) return false;
    }
    return true;
  }
  friend bool operator<(const Sid& a, const Sid& b);

 private:
  void ComputeFingerprint();

  uint64_t fingerprint_ = 0;
  uint64_t authority_ = 0;
  uint8_t count_ = 0;
  std::array<uint32_t, kMaxSubAuthorities> sub_{};
};

}  // namespace comsec::security
