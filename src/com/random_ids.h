// COM's identifiers, random from the CSPRNG ([MS-DCOM] 1.7.x, issue 13):
// OXIDs, OIDs and SETIDs are non-zero 64-bit values and IPIDs random GUIDs,
// so that no peer can guess another's object or ping set.
//
// Thread-safety: safe from any thread (OpenSSL's RAND is).
#pragma once

#include <cstdint>

#include "comsec/base/guid.h"

namespace comsec::com {

// A non-zero random 64-bit identifier (OXID, OID, SETID).
uint64_t RandomId();
// A random GUID (IPID, causality id).
Guid RandomGuid();

}  // namespace comsec::com
