// The krb5 GSS mechanism's authenticator checksum (RFC 4121 4.1.1,
// checksum type 0x8003), as a server reads it from the client's AP-REQ to
// recover a forwarded TGT that MIT drops under DCE style
// (reference/kerberos/NOTES.md §0.1). The bytes come from an authenticator
// the service key decrypted, so they are the authenticated client's; they
// are still parsed as untrusted (fuzz/gss_checksum_fuzzer.cc).
//
//   Lgth   4 bytes LE  length of Bnd, 16
//   Bnd    16 bytes    channel binding hash
//   Flags  4 bytes LE  GSS_C_*_FLAG the client asked for
//   and when Flags has GSS_C_DELEG_FLAG:
//   DlgOpt 2 bytes LE  1
//   Dlgth  2 bytes LE  length of Deleg
//   Deleg  Dlgth bytes a KRB-CRED holding the forwarded TGT
//   then optional extensions (ignored).
#pragma once

#include <cstdint>
#include <span>

#include "comsec/base/result.h"

namespace comsec::auth::gssapi {

inline constexpr int32_t kGssChecksumType = 0x8003;

struct GssChecksum {
  uint32_t flags = 0;
  // The KRB-CRED; empty when the client delegated nothing. Points into
  // the parsed bytes.
  std::span<const uint8_t> delegation;
};

// SEC_E_INVALID_TOKEN naming the field and offset for a checksum that is
// short, whose Lgth is not 16, or whose delegation option is not 1 or
// overruns it.
Result<GssChecksum> ParseGssChecksum(std::span<const uint8_t> bytes);

// The Ticket inside a raw AP-REQ (RFC 4120 5.5.1: [APPLICATION 14]
// SEQUENCE { pvno [0], msg-type [1], ap-options [2], ticket [3] Ticket,
// authenticator [4] }), as its DER bytes ([APPLICATION 1] ...): the
// evidence ticket of constrained delegation, which libkrb5 decodes but has
// no public call to re-encode. Definite DER lengths only (up to 4 length
// bytes), every length inside its parent. SEC_E_INVALID_TOKEN naming what
// is wrong otherwise. Points into `ap_req`.
Result<std::span<const uint8_t>> ApReqTicket(std::span<const uint8_t> ap_req);

}  // namespace comsec::auth::gssapi
