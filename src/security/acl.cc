#include "comsec/security/acl.h"

#include <string>

#include "comsec/base/win32_error.h"

namespace comsec::security {

uint8_t Acl::RequiredRevision() const {
  for (const Ace& ace : aces) {
    if (Ace::IsObjectType(ace.type)) return ACL_REVISION_DS;
  }
  return ACL_REVISION;
}

Result<Acl> Acl::Decode(ByteReader& reader) {
  const size_t start = reader.offset();
  if (reader.remaining() < 8) {
    return reader.Error(ERROR_INVALID_ACL,
                        "ACL header is truncated: 8 bytes needed, " +
                            std::to_string(reader.remaining()) + " left");
  }
  Acl acl;
  acl.revision = *reader.U8();
  uint8_t sbz1 = *reader.U8();
  uint16_t acl_size = *reader.U16Le();
  uint16_t ace_count = *reader.U16Le();
  uint16_t sbz2 = *reader.U16Le();
  (void)sbz1;  // Windows ignores Sbz1 and Sbz2 on input.
  (void)sbz2;
  if (acl.revision != ACL_REVISION && acl.revision != ACL_REVISION_DS) {
    return Status(ERROR_INVALID_ACL,
                  "ACL at offset " + std::to_string(start) + " has revision " +
                      std::to_string(acl.revision) + "; only 2 and 4 exist")
        .WithPosition(start);
  }
  if (acl_size < 8) {
    return Status(ERROR_INVALID_ACL,
                  "ACL at offset " + std::to_string(start) +
                      " has AclSize " + std::to_string(acl_size) +
                      ", smaller than its own header")
        .WithPosition(start + 2);
  }
  if (acl_size - 8u > reader.remaining()) {
    return Status(ERROR_INVALID_ACL,
                  "ACL at offset " + std::to_string(start) + " has AclSize " +
                      std::to_string(acl_size) + " but only " +
                      std::to_string(reader.remaining() + 8) +
                      " bytes remain in the descriptor")
        .WithPosition(start + 2);
  }
  // Each ACE takes at least 16 bytes, so a count the size cannot hold is
  // refused before anything is allocated for it.
  if (size_t{ace_count} * 16 > acl_size - 8u) {
    return Status(ERROR_INVALID_ACL,
                  "ACL at offset " + std::to_string(start) + " claims " +
                      std::to_string(ace_count) + " ACEs, more than its " +
                      std::to_string(acl_size) + " bytes can hold")
        .WithPosition(start + 4);
  }
  ByteReader body(*reader.Bytes(acl_size - 8u), "ACL");
  acl.aces.reserve(ace_count);
  for (size_t i = 0; i < ace_count; ++i) {
    auto ace = Ace::Decode(body, i);
    if (!ace.ok()) {
      return Status(ace.status().code(),
                    "ACL at offset " + std::to_string(start) + ": " +
                        std::string(ace.status().message()))
          .WithPosition(start + 8 + body.offset());
    }
    if (Ace::IsObjectType(ace->type) && acl.revision < ACL_REVISION_DS) {
      return Status(ERROR_INVALID_ACL,
                    "ACL at offset " + std::to_string(start) + ": ACE " +
                        std::to_string(i) +
                        " is an object ACE, which needs ACL revision 4")
          .WithPosition(start);
    }
    acl.aces.push_back(std::move(*ace));
  }
  return acl;
}

size_t Acl::EncodedSize() const {
  size_t n = 8;
  for (const Ace& ace : aces) n += ace.EncodedSize();
  return n;
}

void Acl::EncodeTo(ByteWriter& w) const {
  w.U8(revision < RequiredRevision() ? RequiredRevision() : revision);
  w.U8(0);
  w.U16Le(static_cast<uint16_t>(EncodedSize()));
  w.U16Le(static_cast<uint16_t>(aces.size()));
  w.U16Le(0);
  for (const Ace& ace : aces) ace.EncodeTo(w);
}

}  // namespace comsec::security
