// The security-package interface ([MS-RPCE] 3.3.1.5.2; the role of SSPI,
// or of Samba's gensec_security_ops): the RPC runtime drives a package
// through its handshake legs — bind, auth3, alter_context — and then asks it
// to check and protect each PDU at the negotiated level. Packages live in
// src/auth and implement this interface; the runtime never knows their
// wire formats.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/token.h"

namespace comsec::rpc {

// rpcdce.h authentication services (R26) comsec knows.
inline constexpr uint8_t RPC_C_AUTHN_NONE = 0;
inline constexpr uint8_t RPC_C_AUTHN_GSS_NEGOTIATE = 9;
inline constexpr uint8_t RPC_C_AUTHN_WINNT = 10;
inline constexpr uint8_t RPC_C_AUTHN_GSS_KERBEROS = 16;
// The local package on ncalrpc: the kernel vouches for the caller.
inline constexpr uint8_t RPC_C_AUTHN_KERNEL = 20;

// Authentication levels on the wire (R1).
inline constexpr uint8_t kAuthnLevelNone = 1;
inline constexpr uint8_t kAuthnLevelConnect = 2;
inline constexpr uint8_t kAuthnLevelCall = 3;
inline constexpr uint8_t kAuthnLevelPkt = 4;
inline constexpr uint8_t kAuthnLevelPktIntegrity = 5;
inline constexpr uint8_t kAuthnLevelPktPrivacy = 6;

// What a package may learn about the connection it authenticates.
struct ConnectionInfo {
  bool local = false;  // ncalrpc
  // The level the handshake asks for: a package refuses a negotiation that
  // cannot deliver it (an NTLM peer dropping NEGOTIATE_SIGN, case 32).
  uint8_t auth_level = kAuthnLevelConnect;
  // The peer as logs name it ("127.0.0.1:50312", "ncalrpc pid 42 uid 0").
  std::string peer;
  // Client side: our own end in the same form, which is what the server
  // sees as `peer` on a direct connection. NTLM uses the pair to tell a
  // loopback logon from a reflected one (MS08-068).
  std::string local_address;
  bool has_peer = false;
  uint32_t peer_uid = 0;
  uint32_t peer_gid = 0;
  uint32_t peer_pid = 0;
};

// One authentication context: one handshake and its keys. Not thread-safe;
// owned by one connection.
class SecurityContext {
 public:
  virtual ~SecurityContext() = default;

  // Server side: consumes the peer's token from a bind, alter_context or
  // auth3 verifier and returns the token for our reply (possibly empty).
  // A failure refuses the authentication.
  virtual Result<std::vector<uint8_t>> Accept(std::span<const uint8_t> token) = 0;
  // Client side: the first call has an empty input.
  virtual Result<std::vector<uint8_t>> Initiate(std::span<const uint8_t> token) = 0;
  virtual bool IsComplete() const = 0;

  // The auth_value size of protected PDUs at CALL and above (R4: CALL is
  // raised to PKT, so every PDU of a CALL-level association is signed).
  virtual size_t SignatureSize() const = 0;
  // Checks a received PDU at `level` ≥ PKT. `pdu` is the whole fragment;
  // [stub_begin, stub_end) is the stub (with padding), which is unsealed in
  // place at PKT_PRIVACY. `signature` is the verifier's auth_value; it may
  // point into `pdu` after stub_end, which a package never modifies.
  virtual Status Verify(std::span<uint8_t> pdu, size_t stub_begin,
                        size_t stub_end, uint8_t level,
                        std::span<const uint8_t> signature) = 0;
  // Protects an outgoing PDU: seals the stub in place at PKT_PRIVACY and
  // writes the signature (SignatureSize() bytes) into `signature`, which
  // lies inside `pdu`.
  virtual Status Protect(std::span<uint8_t> pdu, size_t stub_begin,
                         size_t stub_end, uint8_t level,
                         std::span<uint8_t> signature) = 0;

  // The authenticated caller as the server reports it (C5): "DOMAIN\user",
  // "unix:NAME", or "NT AUTHORITY\ANONYMOUS LOGON".
  virtual std::string PeerName() const = 0;
  // The caller's token once the server side completed (who access checks
  // see); null on the client side.
  virtual std::shared_ptr<const security::Token> PeerToken() const = 0;
};

// Thread-safety: a server calls NewServerContext (and a client process
// NewClientContext) from every connection's thread at once; every
// implementation must be safe for that. What a package shares between its
// contexts (credentials, a LogonValidator) must itself be thread-safe.
class SecurityPackage {
 public:
  virtual ~SecurityPackage() = default;
  virtual uint8_t auth_type() const = 0;
  virtual const char* name() const = 0;
  // A context for a new server-side handshake on `connection`; a package
  // that cannot serve this connection (the local package on TCP) fails.
  virtual Result<std::unique_ptr<SecurityContext>> NewServerContext(
      const ConnectionInfo& connection) = 0;
  virtual Result<std::unique_ptr<SecurityContext>> NewClientContext(
      const ConnectionInfo& connection) = 0;
};

// The packages a server offers. Packages must outlive the registry's users.
// Thread-safety: filled before the server starts, then only read (from
// any thread).
class SecurityPackageRegistry {
 public:
  void Add(SecurityPackage* package) { packages_.push_back(package); }
  SecurityPackage* Find(uint8_t auth_type) const {
    for (SecurityPackage* p : packages_) {
      if (p->auth_type() == auth_type) return p;
    }
    return nullptr;
  }

 private:
  std::vector<SecurityPackage*> packages_;
};

}  // namespace comsec::rpc
