// The local package for ncalrpc (issue 4; R188): on a Unix-domain socket
// the kernel tells the server who the caller is (SO_PEERCRED), and the
// bytes never leave the machine, so every authentication level up to
// PKT_PRIVACY is satisfied by the transport, as Windows's local RPC does.
//
// Wire form: auth_type RPC_C_AUTHN_KERNEL (20). The handshake is one leg:
// the client's bind carries kLocalToken and the server's bind_ack repeats
// it (a verifier needs a non-empty value, or auth_length 0 would hide it). At PKT and above each PDU carries a 16-byte all-zero
// auth_value, so that the runtime's per-level framing rules (a verifier on
// every PDU, matching context id, type and level) apply to this package
// exactly as to NTLM and Kerberos. The package refuses to run on TCP.
//
// Impersonation level: a client granting less than IMPERSONATE (IDENTIFY,
// ANONYMOUS) appends one byte to its token, the RPC_C_IMP_LEVEL_* number
// (1 or 2); the server then reports that level (SecurityContext::
// imp_level), so that it cannot act as the client (R109: an intermediate
// so limited cannot cloak). The plain 8-byte token grants IMPERSONATE, as
// before. Any other length or byte is SEC_E_INVALID_TOKEN.
#pragma once

#include <array>

#include "comsec/rpc/security_package.h"

namespace comsec::auth {

// The local package's handshake token: "CSLOCAL1".
inline constexpr std::array<uint8_t, 8> kLocalToken = {'C', 'S', 'L', 'O',
                                                       'C', 'A', 'L', '1'};

// Thread-safety: stateless; safe from any number of threads.
class LocalPackage : public rpc::SecurityPackage {
 public:
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_KERNEL; }
  const char* name() const override { return "local"; }
  Result<std::unique_ptr<rpc::SecurityContext>> Start(const rpc::StartParams& params) override;
};

}  // namespace comsec::auth
