#include "comsec/rpc/binding.h"

#include <charconv>

#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

Status Invalid(std::string_view text, std::string_view why) {
  return Status(RPC_S_INVALID_STRING_BINDING,
                "string binding \"" + std::string(text) + "\": " +
                    std::string(why));
}

}  // namespace

Result<StringBinding> StringBinding::Parse(std::string_view text) {
  StringBinding b;
  std::string_view rest = text;
  size_t at = rest.find('@');
  size_t colon = rest.find(':');
  if (at != std::string_view::npos && (colon == std::string_view::npos || at < colon)) {
    auto g = Guid::Parse(rest.substr(0, at));
    if (!g.ok()) return Invalid(text, "the object UUID is malformed");
    b.object = *g;
    rest.remove_prefix(at + 1);
    colon = rest.find(':');
  }
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid(text, "expected protseq:address[endpoint]");
  }
  b.protseq = std::string(rest.substr(0, colon));
  for (char& c : b.protseq) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!b.IsTcp() && !b.IsLocal()) {
    return Status(RPC_S_PROTSEQ_NOT_SUPPORTED,
                  "string binding \"" + std::string(text) + "\": protocol "
                  "sequence " + b.protseq +
                      " is not supported; use ncacn_ip_tcp or ncalrpc");
  }
  rest.remove_prefix(colon + 1);
  // The endpoint is the bracketed part that ends the string.
  std::string_view endpoint_part;
  if (!rest.empty() && rest.back() == ']') {
    size_t open = rest.rfind('[');
    if (open == std::string_view::npos) return Invalid(text, "unbalanced ']'");
    endpoint_part = rest.substr(open + 1, rest.size() - open - 2);
    rest = rest.substr(0, open);
  } else if (rest.find('[') != std::string_view::npos) {
    return Invalid(text, "'[' without a closing ']'");
  }
  if (b.IsLocal()) {
    if (!rest.empty() && endpoint_part.empty()) {
      endpoint_part = rest;  // ncalrpc:/path
      rest = {};
    }
    if (!rest.empty()) return Invalid(text, "ncalrpc takes no network address");
  }
  b.address = std::string(rest);
  // endpoint[,option=value]...
  size_t comma = endpoint_part.find(',');
  b.endpoint = std::string(endpoint_part.substr(0, comma));
  while (comma != std::string_view::npos) {
    endpoint_part.remove_prefix(comma + 1);
    comma = endpoint_part.find(',');
    std::string_view opt = endpoint_part.substr(0, comma);
    size_t eq = opt.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Invalid(text, "options are name=value");
    }
    b.options.emplace_back(std::string(opt.substr(0, eq)),
                           std::string(opt.substr(eq + 1)));
  }
  if (b.IsTcp()) {
    if (b.address.empty()) return Invalid(text, "ncacn_ip_tcp needs an address");
    // "0" asks a listener for a free port.
    if (!b.endpoint.empty() && b.endpoint != "0" && !b.Port().ok()) {
      return Invalid(text, "the endpoint must be a port number 1-65535");
    }
  }
  if (b.IsLocal() && !b.endpoint.empty() && b.endpoint.size() > 107) {
    return Invalid(text, "a Unix socket path is at most 107 bytes");
  }
  return b;
}

std::string StringBinding::ToString() const {
  std::string out;
  if (object) out += object->ToString() + "@";
  out += protseq + ":" + address;
  if (!endpoint.empty() || !options.empty()) {
    out += "[" + endpoint;
    for (const auto& [k, v] : options) out += "," + k + "=" + v;
    out += "]";
  }
  return out;
}

Result<uint16_t> StringBinding::Port() const {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(endpoint.data(), endpoint.data() + endpoint.size(), value);
  if (endpoint.empty() || ec != std::errc() ||
      end != endpoint.data() + endpoint.size() || value == 0 || value > 65535) {
    return Status(RPC_S_INVALID_STRING_BINDING,
                  "endpoint \"" + endpoint + "\" is not a TCP port");
  }
  return static_cast<uint16_t>(value);
}

}  // namespace comsec::rpc
