// The string bindings a machine's resolver or a process's exporter
// advertises in a DUALSTRINGARRAY ([MS-DCOM] 2.2.19.3): each TCP listen
// address, and for a wildcard one the host name and the interfaces' IPv4
// addresses, then loopback (last: clients here that came by 127.0.0.1
// find it, remote ones try the others first); with `endpoints`, each
// with its port in brackets ("10.0.0.5[49702]"), as exporters' bindings
// carry it, else bare (a resolver's, reached at port 135).
//
// Thread-safety: a free function; safe from any thread.
#pragma once

#include <vector>

#include "comsec/com/oxid_resolver.h"
#include "comsec/rpc/binding.h"

namespace comsec::com {

std::vector<OxidBindings::String> AdvertisedStringBindings(
    const std::vector<rpc::StringBinding>& bound, bool endpoints);

// The binding a client reaches one advertised TCP string binding at
// ("ncacn_ip_tcp:host[port]", port 135 when it names none); nullopt for
// another tower.
std::optional<rpc::StringBinding> ReachableBinding(const OxidBindings::String& advertised);

}  // namespace comsec::com
