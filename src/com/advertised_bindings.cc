#include "comsec/com/advertised_bindings.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "comsec/base/utf16.h"

namespace comsec::com {

std::vector<OxidBindings::String> AdvertisedStringBindings(
    const std::vector<rpc::StringBinding>& bound, bool endpoints) {
  std::vector<std::string> out;
  auto add = [&](const std::string& address, const std::string& endpoint) {
    std::string a = endpoints && !endpoint.empty() ? address + "[" + endpoint + "]" : address;
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  };
  for (const rpc::StringBinding& b : bound) {
    if (!b.IsTcp()) continue;
    if (b.address != "0.0.0.0" && b.address != "::" && !b.address.empty()) {
      add(b.address, b.endpoint);
      continue;
    }
    const size_t before = out.size();
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0 && host[0] != 0) add(host, b.endpoint);
    ifaddrs* ifs = nullptr;
    if (::getifaddrs(&ifs) == 0) {
      for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
        char text[INET_ADDRSTRLEN] = {};
        auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == nullptr) continue;
        if (std::string(text).starts_with("127.")) continue;
        add(text, b.endpoint);
      }
      ::freeifaddrs(ifs);
    }
    // Loopback last: clients on this machine that reached it at
    // 127.0.0.1 (impacket picks the binding naming the address it was
    // given) find it; remote clients try the others first.
    (void)before;
    add("127.0.0.1", b.endpoint);
  }
  std::vector<OxidBindings::String> strings;
  for (const std::string& a : out) strings.push_back({kTowerIdTcp, Utf8ToUtf16Lossy(a)});
  return strings;
}

std::optional<rpc::StringBinding> ReachableBinding(const OxidBindings::String& advertised) {
  if (advertised.tower_id != kTowerIdTcp) return std::nullopt;
  std::string address = Utf16ToUtf8Lossy(advertised.address);
  if (address.find('[') == std::string::npos) address += "[135]";
  auto parsed = rpc::StringBinding::Parse("ncacn_ip_tcp:" + address);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

}  // namespace comsec::com
