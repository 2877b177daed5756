// Fuzz target: the OXID resolver's generated stubs (com/oxid_resolver_
// service.h) with arbitrary stub bytes: IObjectExporter's six operations
// as a remote caller, and IComsecOxidRegistration's five as a local one
// (its security callback is the server's; the stubs must hold on their
// own). The first byte picks the interface (bit 7) and the opnum; a few
// known OXIDs and OIDs exist, including 0x1122334455667788-shaped ones the
// fixtures use, so that paths past the lookups run. Whatever the bytes, a
// handler returns a reply or an error, and the tables stay in their bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/com/oxid_resolver_service.h"

namespace {

using namespace comsec;

struct Target {
  Target() {
    com::OxidResolverOptions o;
    o.limits = {.max_oxids_per_uid = 8, .max_oxids = 16, .max_oids_per_oxid = 4096,
                .max_oids = 8192, .max_sets = 64, .max_oids_per_set = 256,
                .max_binding_entries = 512};
    o.own_bindings.strings = {{com::kTowerIdTcp, u"127.0.0.1"}};
    o.own_bindings.security = {{com::kAuthnNtlm, com::kAuthzNone, u""}};
    resolver = new com::OxidResolver(o);
    exporter = com::ObjectExporterInterface(resolver);
    registration = com::OxidRegistrationInterface(resolver, nullptr);
    com::OxidRegistration r;
    r.bindings = o.own_bindings;
    auto oxid = resolver->RegisterOxid({0, 1}, r);
    if (oxid.ok()) (void)resolver->RegisterOids({0, 1}, *oxid, 16, false);
  }
  com::OxidResolver* resolver;
  rpc::InterfaceRegistration exporter;
  rpc::InterfaceRegistration registration;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static Target* t = new Target();
  rpc::InterfaceRegistration& iface = data[0] & 0x80 ? t->registration : t->exporter;
  rpc::CallContext call;
  call.local = (data[0] & 0x80) != 0;
  call.has_peer = call.local;
  call.peer_uid = 0;
  call.peer_pid = data[0] & 0x40 ? 1 : 2;
  call.assoc_group_id = 1;
  call.opnum = static_cast<uint16_t>((data[0] & 0x3f) % iface.operations.size());
  auto reply = iface.operations[call.opnum](std::span<const uint8_t>(data + 1, size - 1), call);
  (void)reply;
  if (t->resolver->oxid_count() > 16 || t->resolver->oid_count() > 8192 ||
      t->resolver->set_count() > 64) {
    abort();
  }
  return 0;
}
