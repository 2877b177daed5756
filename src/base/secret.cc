#include "comsec/base/secret.h"

#include <openssl/crypto.h>

namespace comsec {

void WipeSecret(void* data, size_t size) {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

}  // namespace comsec
