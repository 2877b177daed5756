// Fuzz target: the endpoint mapper's request stubs (ept_insert, ept_delete,
// ept_lookup, ept_map, ept_lookup_handle_free), as a local root caller so
// that every path that changes the map runs. The first byte picks the
// operation. Whatever the bytes, a handler returns a reply or an error,
// and the map stays within its limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/rpc/epmapper.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::rpc;
  if (size == 0) return 0;
  static EndpointMapper* mapper = new EndpointMapper(
      EndpointMapperLimits{.max_entries_per_uid = 64, .max_entries = 128,
                           .max_lookups_per_group = 4, .max_lookups = 8});
  static InterfaceRegistration iface = mapper->Interface();
  CallContext call;
  call.local = true;
  call.has_peer = true;
  call.peer_uid = data[0] & 0x80 ? 0 : 1000;
  call.assoc_group_id = 1;
  const size_t op = (data[0] & 0x7f) % iface.operations.size();
  auto reply = iface.operations[op](std::span<const uint8_t>(data + 1, size - 1), call);
  (void)reply;
  if (mapper->size() > 128 || mapper->open_lookups() > 8) abort();
  return 0;
}
