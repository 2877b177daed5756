#include "comsec/ndr/data_rep.h"

#include <string>

#include "comsec/base/win32_error.h"
#include "comsec/ndr/limits.h"

namespace comsec::ndr {

Result<DataRep> DataRep::FromBytes(const uint8_t* drep) {
  const uint8_t integer = drep[0] >> 4;
  const uint8_t character = drep[0] & 0x0F;
  const uint8_t floating = drep[1];
  if (integer > 1 || character != 0 || floating != 0) {
    return Status(RPC_S_UNSUPPORTED_TYPE,
                  "NDR data representation " + std::to_string(drep[0]) + "/" +
                      std::to_string(drep[1]) +
                      " is not supported: comsec speaks ASCII characters and "
                      "IEEE floats, in either byte order");
  }
  return DataRep{integer == 1};
}

}  // namespace comsec::ndr
