// Acl: an ordered list of ACEs ([MS-DTYP] 2.4.5).
#pragma once

#include <cstdint>
#include <vector>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/result.h"
#include "comsec/security/ace.h"

namespace comsec::security {

// [MS-DTYP] 2.4.5 AclRevision.
inline constexpr uint8_t ACL_REVISION = 2;
// Required when the ACL holds object ACEs.
inline constexpr uint8_t ACL_REVISION_DS = 4;

// AclSize and AceSize are 16-bit, so an ACL never exceeds 64 KiB.
inline constexpr size_t kMaxAclBytes = 0xFFFF;

struct Acl {
  uint8_t revision = ACL_REVISION;
  std::vector<Ace> aces;

  // The revision the ACEs require: ACL_REVISION_DS when any ACE is an object
  // ACE, else ACL_REVISION.
  uint8_t RequiredRevision() const;

  // Reads one ACL whose header starts at the reader's offset. AclSize must
  // fit in the reader; the ACEs (AceCount of them) must fit in AclSize. Bytes
  // after the last ACE inside AclSize are free space and are not kept.
  static Result<Acl> Decode(ByteReader& reader);
  size_t EncodedSize() const;
  void EncodeTo(ByteWriter& writer) const;

  friend bool operator==(const Acl&, const Acl&) = default;
};

}  // namespace comsec::security
