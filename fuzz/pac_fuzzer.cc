// Fuzz target: the PAC (auth/gssapi/pac.h), a Kerberos server's parser of
// what a client's KDC signed. The first byte picks the input: even, a whole
// PAC (PACTYPE, then its logon info); odd, a PAC_LOGON_INFO buffer alone
// (the type serialization stream and KERB_VALIDATION_INFO that comidl's
// generated decoder reads). Checks: every PAC buffer lies inside the input
// after the header; a decoded logon info has a user SID and at most
// max_group_sids distinct groups, each group SID once; its token holds the
// user and matches every enabled or deny-only group; decoding is
// deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/auth/gssapi/pac.h"

namespace {

using namespace comsec::auth::gssapi;

void CheckInfo(const PacLogonInfo& info, const PacLimits& limits) {
  if (info.user.sub_authority_count() == 0) abort();
  if (info.groups.size() > limits.max_group_sids) abort();
  for (size_t i = 0; i < info.groups.size(); ++i) {
    for (size_t j = i + 1; j < info.groups.size(); ++j) {
      if (info.groups[i].sid == info.groups[j].sid) abort();
    }
  }
  const comsec::security::Token token = info.ToToken();
  if (!(token.user() == info.user)) abort();
  // A group the PAC lists as enabled or deny-only matches; one listed with
  // neither bit is a disabled group and may match nothing.
  constexpr uint32_t kCounts =
      comsec::security::SE_GROUP_ENABLED | comsec::security::SE_GROUP_USE_FOR_DENY_ONLY;
  for (const auto& g : info.groups) {
    if ((g.attributes & kCounts) && token.Match(g.sid) == comsec::security::SidMatch::kNone) {
      abort();
    }
  }
}

void WholePac(std::span<const uint8_t> in, const PacLimits& limits) {
  auto buffers = ParsePac(in, limits);
  if (buffers.ok()) {
    for (const PacBuffer& b : *buffers) {
      if (b.data.data() < in.data() + 8 + 16 * buffers->size()) abort();
      if (b.data.data() + b.data.size() > in.data() + in.size()) abort();
    }
  }
  auto info = LogonInfoFromPac(in, limits);
  if (!buffers.ok() && info.ok()) abort();  // a PAC that does not parse yields nothing
  if (info.ok() && info->has_value()) CheckInfo(**info, limits);
}

void LogonInfo(std::span<const uint8_t> in, const PacLimits& limits) {
  auto info = DecodeLogonInfo(in, limits);
  auto again = DecodeLogonInfo(in, limits);
  if (info.ok() != again.ok()) abort();
  if (!info.ok()) {
    if (info.status().code() != again.status().code()) abort();
    return;
  }
  CheckInfo(*info, limits);
  if (info->groups.size() != again->groups.size() || info->QualifiedName() != again->QualifiedName()) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  // Small limits too, so that the limit checks are reached with small inputs.
  PacLimits small;
  small.max_buffers = 4;
  small.max_group_sids = 8;
  small.max_string_chars = 64;
  if (data[0] & 1) {
    LogonInfo(in, PacLimits{});
    LogonInfo(in, small);
  } else {
    WholePac(in, PacLimits{});
    WholePac(in, small);
  }
  return 0;
}
