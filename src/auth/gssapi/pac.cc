#include "comsec/auth/gssapi/pac.h"

#include <algorithm>

#include "comsec/base/byte_reader.h"
#include "comsec/base/hresult.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/ndr/idl_support.h"
#include "comsec_auth_gssapi/pac.h"  // generated from idl/ms-pac/pac.idl

namespace comsec::auth::gssapi {
namespace {

namespace idl = ::comsec::idl;

// [MS-PAC] 2.3: cBuffers (4) and Version (4); 2.4: each PAC_INFO_BUFFER is
// ulType (4), cbBufferSize (4), Offset (8).
constexpr size_t kPacHeaderBytes = 8;
constexpr size_t kPacInfoBufferBytes = 16;

Status Invalid(std::string message) { return Status(SEC_E_INVALID_TOKEN, std::move(message)); }

std::string Utf8(const idl::RPC_UNICODE_STRING& s) {
  if (!s.Buffer) return std::string();
  return Utf16ToUtf8Lossy(std::u16string_view(s.Buffer->data(), s.Buffer->size()));
}

// An RPC_SID as a security::Sid: revision 1 and at most 15
// sub-authorities ([MS-DTYP] 2.4.2.3; the NDR decoder already checked that
// the array holds SubAuthorityCount elements). `room` sub-authorities are
// kept free for a RID the caller appends.
Result<security::Sid> ToSid(const idl::RPC_SID& s, const char* what, int room = 0) {
  if (s.Revision != 1) {
    return Invalid(std::string(what) + " has revision " + std::to_string(s.Revision) +
                   ", not 1");
  }
  if (s.SubAuthority.size() + room > security::Sid::kMaxSubAuthorities) {
    return Invalid(std::string(what) + " has " + std::to_string(s.SubAuthority.size()) +
                   " sub-authorities" + (room ? " and no room for a RID" : "") +
                   " (at most " + std::to_string(security::Sid::kMaxSubAuthorities) + ")");
  }
  uint64_t authority = 0;
  for (uint8_t b : s.IdentifierAuthority.Value) authority = authority << 8 | b;
  return security::Sid(authority, std::span<const uint32_t>(s.SubAuthority));
}

void AddGroup(std::vector<security::SidAndAttributes>& groups, const security::Sid& sid,
              uint32_t attributes) {
  for (security::SidAndAttributes& g : groups) {
    if (g.sid == sid) {
      g.attributes |= attributes;
      return;
    }
  }
  groups.push_back({sid, attributes});
}

}  // namespace

Result<std::vector<PacBuffer>> ParsePac(std::span<const uint8_t> pac, const PacLimits& limits) {
  ByteReader r(pac, "PAC");
  if (pac.size() < kPacHeaderBytes) {
    return Invalid("the PAC is " + std::to_string(pac.size()) +
                   " bytes, shorter than its 8-byte PACTYPE header");
  }
  const uint32_t count = *r.U32Le();
  const uint32_t version = *r.U32Le();
  if (version != 0) {
    return Invalid("the PAC's Version is " + std::to_string(version) + ", not 0 ([MS-PAC] 2.3)");
  }
  if (count == 0 || count > limits.max_buffers) {
    return Invalid("the PAC's cBuffers is " + std::to_string(count) + " (1 to " +
                   std::to_string(limits.max_buffers) + " accepted)");
  }
  const size_t array_end = kPacHeaderBytes + size_t{count} * kPacInfoBufferBytes;
  if (array_end > pac.size()) {
    return Invalid("the PAC's " + std::to_string(count) + " PAC_INFO_BUFFERs need " +
                   std::to_string(array_end) + " bytes; the PAC has " +
                   std::to_string(pac.size()));
  }
  std::vector<PacBuffer> buffers;
  buffers.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = r.offset();
    const uint32_t type = *r.U32Le();
    const uint32_t size = *r.U32Le();
    const uint32_t offset_low = *r.U32Le();
    const uint32_t offset_high = *r.U32Le();
    const uint64_t offset = uint64_t{offset_high} << 32 | offset_low;
    const std::string where = "PAC_INFO_BUFFER " + std::to_string(i) + " (ulType " +
                              std::to_string(type) + ", at offset " + std::to_string(at) + ")";
    if (offset < array_end) {
      return Invalid(where + " starts at " + std::to_string(offset) +
                     ", inside the PAC's header (which ends at " + std::to_string(array_end) + ")");
    }
    if (offset > pac.size() || size > pac.size() - offset) {
      return Invalid(where + " runs from " + std::to_string(offset) + " for " +
                     std::to_string(size) + " bytes, past the PAC's end at " +
                     std::to_string(pac.size()));
    }
    // [MS-PAC] 2.4 wants Offset % 8 == 0; accepted either way (see pac.h).
    buffers.push_back({type, pac.subspan(static_cast<size_t>(offset), size)});
  }
  return buffers;
}

std::string PacLogonInfo::QualifiedName() const {
  if (domain_name.empty()) return account_name;
  return domain_name + "\\" + account_name;
}

security::Token PacLogonInfo::ToToken() const {
  security::Token t(user, security::LogonKind::kNetwork);
  for (const security::SidAndAttributes& g : groups) t.AddGroup(g.sid, g.attributes);
  const security::Token base =
      security::Token::ForAuthenticatedUser(user, {}, security::LogonKind::kNetwork);
  for (const security::SidAndAttributes& g : base.groups()) t.AddGroup(g.sid, g.attributes);
  return t;
}

Result<PacLogonInfo> DecodeLogonInfo(std::span<const uint8_t> logon_info,
                                     const PacLimits& limits) {
  ndr::Limits nl;
  nl.max_elements = std::max(limits.max_string_chars, limits.max_group_sids);
  idl::PAC_LOGON_INFO stream;
  if (Status s = ndr::DecodePickled(logon_info, stream, nl); !s.ok()) {
    return Status(s.code(), "the PAC's logon info (KERB_VALIDATION_INFO) does not decode: " +
                                std::string(s.message()));
  }
  if (!stream.Info) return Invalid("the PAC's logon info is a NULL KERB_VALIDATION_INFO");
  const idl::KERB_VALIDATION_INFO& v = *stream.Info;

  const uint64_t total = uint64_t{v.GroupCount} + v.SidCount + v.ResourceGroupCount + 1;
  if (total > limits.max_group_sids) {
    return Invalid("the PAC's logon info lists " + std::to_string(total) +
                   " group SIDs (with the primary group); at most " +
                   std::to_string(limits.max_group_sids) + " are accepted, as Windows does");
  }
  if (!v.LogonDomainId) return Invalid("the PAC's logon info has no LogonDomainId");
  COMSEC_ASSIGN_OR_RETURN(security::Sid domain, ToSid(*v.LogonDomainId, "LogonDomainId", 1));

  PacLogonInfo info;
  info.user = domain.WithRid(v.UserId);
  info.user_flags = v.UserFlags;
  info.account_name = Utf8(v.EffectiveName);
  info.domain_name = Utf8(v.LogonDomainName);

  // The primary group is a member of GroupIds on Windows; adding it again
  // merges (AddGroup), and a PAC that leaves it out still gets it, as
  // Windows's token does.
  AddGroup(info.groups, domain.WithRid(v.PrimaryGroupId), security::kGroupEnabled);
  if (v.GroupIds) {
    for (const idl::GROUP_MEMBERSHIP& g : *v.GroupIds) {
      AddGroup(info.groups, domain.WithRid(g.RelativeId), g.Attributes);
    }
  } else if (v.GroupCount != 0) {
    return Invalid("the PAC's logon info has GroupCount " + std::to_string(v.GroupCount) +
                   " and a NULL GroupIds");
  }
  // ExtraSids count only when the flag says so ([MS-PAC] 2.5 UserFlags D);
  // they are decoded (and so checked) either way.
  if (v.ExtraSids) {
    for (size_t i = 0; i < v.ExtraSids->size(); ++i) {
      const idl::KERB_SID_AND_ATTRIBUTES& e = (*v.ExtraSids)[i];
      const std::string what = "ExtraSids[" + std::to_string(i) + "]";
      if (!e.Sid) return Invalid("the PAC's logon info has a NULL " + what);
      COMSEC_ASSIGN_OR_RETURN(security::Sid sid, ToSid(*e.Sid, what.c_str()));
      if (v.UserFlags & LOGON_EXTRA_SIDS) AddGroup(info.groups, sid, e.Attributes);
    }
  } else if (v.SidCount != 0) {
    return Invalid("the PAC's logon info has SidCount " + std::to_string(v.SidCount) +
                   " and a NULL ExtraSids");
  }
  if (v.ResourceGroupIds && !v.ResourceGroupIds->empty()) {
    if (!v.ResourceGroupDomainSid) {
      return Invalid("the PAC's logon info has " + std::to_string(v.ResourceGroupIds->size()) +
                     " resource groups and no ResourceGroupDomainSid");
    }
    COMSEC_ASSIGN_OR_RETURN(security::Sid resource,
                            ToSid(*v.ResourceGroupDomainSid, "ResourceGroupDomainSid", 1));
    if (v.UserFlags & LOGON_RESOURCE_GROUPS) {
      for (const idl::GROUP_MEMBERSHIP& g : *v.ResourceGroupIds) {
        AddGroup(info.groups, resource.WithRid(g.RelativeId), g.Attributes);
      }
    }
  } else if (!v.ResourceGroupIds && v.ResourceGroupCount != 0) {
    return Invalid("the PAC's logon info has ResourceGroupCount " +
                   std::to_string(v.ResourceGroupCount) + " and a NULL ResourceGroupIds");
  }
  return info;
}

Result<std::optional<PacLogonInfo>> LogonInfoFromPac(std::span<const uint8_t> pac,
                                                     const PacLimits& limits) {
  COMSEC_ASSIGN_OR_RETURN(std::vector<PacBuffer> buffers, ParsePac(pac, limits));
  const PacBuffer* logon = nullptr;
  for (const PacBuffer& b : buffers) {
    if (b.type != PAC_LOGON_INFO) continue;
    if (logon != nullptr) return Invalid("the PAC has two PAC_LOGON_INFO buffers");
    logon = &b;
  }
  if (logon == nullptr) return std::optional<PacLogonInfo>();
  COMSEC_ASSIGN_OR_RETURN(PacLogonInfo info, DecodeLogonInfo(logon->data, limits));
  return std::optional<PacLogonInfo>(std::move(info));
}

}  // namespace comsec::auth::gssapi
