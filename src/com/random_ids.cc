#include "comsec/com/random_ids.h"

#include <openssl/rand.h>

#include "comsec/base/check.h"

namespace comsec::com {
namespace {

void RandomBytes(void* out, size_t n) {
  // RAND_bytes fails only when the CSPRNG cannot be seeded: handing out
  // guessable identifiers instead is not an option.
  COMSEC_CHECK(RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) == 1,
               "the CSPRNG failed");
}

}  // namespace

uint64_t RandomId() {
  uint64_t id = 0;
  while (id == 0) RandomBytes(&id, sizeof id);
  return id;
}

Guid RandomGuid() {
  uint8_t b[16];
  RandomBytes(b, sizeof b);
  return Guid::FromBytes(b);
}

}  // namespace comsec::com
