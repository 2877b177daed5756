// A TEST security package, not for production: shared-secret
// challenge–response with mutual authentication in four legs, so that the
// runtime's handshake loop, alter_context legs and data-dependent
// signatures are exercised by something that is neither NTLM (three legs,
// auth3, fixed 16-byte signatures, no mutual authentication) nor a mock.
// Its auth_type, 0xF0, is a private value no Windows package uses.
//
// The handshake (rpc/security_package.h maps legs onto PDUs):
//   leg 1, bind:               NEGOTIATE  client nonce, user, target, imp level
//   leg 2, bind_ack:           CHALLENGE  server nonce, server name, and the
//                              server's proof HMAC(K, "server proof" ||
//                              leg 1 || nonce || name): the client checks it,
//                              which proves the server knows K
//                              (kFeatureMutualAuth), or refuses with
//                              SEC_E_MUTUAL_AUTH_FAILED;
//   leg 3, alter_context:      PROOF      HMAC(K, "client proof" || legs 1-2);
//                              the client is not done: it waits for
//   leg 4, alter_context_resp: CONFIRM    HMAC(SK, "confirm" || legs 1-3), the
//                              server's key confirmation; the server is done
//                              after sending it, the client after checking
//                              it, with no output (so no auth3).
// K = HMAC-SHA256(secret, "comsec test key" || user) is the user's long-term
// key; SK = HMAC(K, "session key" || client nonce || server nonce) the
// session key; each direction derives its signing and sealing keys from SK.
// Every message starts with "CSTP", its leg number and version 1.
//
// Per-PDU protection (HMAC-SHA256, AES-256-CBC):
//   auth_value = version 1 | flags (1 sealed, 2 header signed) | 0 0 |
//                sequence number (u32 LE) | ciphertext tail | MAC (32)
// The MAC covers the auth_value's first bytes (through the tail), the PDU
// header and body prefix when header signing was negotiated
// (PduRegion::header_signing), the stub (ciphertext at PKT_PRIVACY) and the
// sec_trailer when header signing was negotiated. At PKT_PRIVACY the stub
// is encrypted with AES-256-CBC and PKCS#7 padding: the first n bytes of
// the ciphertext replace the stub in place, the remaining 16 - n % 16 go
// into the auth_value, so SignatureSize(n) is 40 + 16 - n % 16 there (44 to
// 56 bytes for RPC's 4-byte-aligned stubs), and 40 below it — a size that
// depends on the data and is not monotonic in it, as a GSS wrap token's is.
// Sequence numbers count per direction from 0; a PDU out of order is
// SEC_E_OUT_OF_SEQUENCE, an altered one SEC_E_MESSAGE_ALTERED.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "comsec/base/hresult.h"
#include "comsec/base/secret.h"
#include "comsec/rpc/security_package.h"
#include "comsec/security/sid.h"

namespace comsec::rpc::testing {

// A private authentication service number (rpcdce.h leaves values above
// the defined ones to vendors); comsec's test package only.
inline constexpr uint8_t kTestAuthType = 0xF0;

// winerror.h: "The identity of the server computer could not be verified."
inline constexpr HResult SEC_E_MUTUAL_AUTH_FAILED{0x80090363u};

// Who a client context authenticates as.
class SharedSecretCredentials : public Credentials {
 public:
  SharedSecretCredentials(std::string user, SecretString secret)
      : user_(std::move(user)), secret_(std::move(secret)) {}
  uint8_t auth_type() const override { return kTestAuthType; }
  const std::string& user() const { return user_; }
  const SecretString& secret() const { return secret_; }

 private:
  std::string user_;
  SecretString secret_;
};

struct SharedSecretAccount {
  SecretString secret;
  security::Sid sid;
};

struct SharedSecretServerOptions {
  // Callers are named "<realm>\<user>".
  std::string realm = "TESTREALM";
  // What the server calls itself in leg 2; a client whose target_name is
  // set must be talking to this name.
  std::string server_name = "testserver";
  std::map<std::string, SharedSecretAccount> accounts;
};

// Thread-safety: Start from any thread; a context is used by one thread at
// a time (security_package.h).
class SharedSecretPackage : public SecurityPackage {
 public:
  // A server-side package (client contexts need credentials in
  // StartParams).
  explicit SharedSecretPackage(SharedSecretServerOptions server)
      : server_(std::move(server)) {}
  // A client-side package whose default credentials are `client`.
  explicit SharedSecretPackage(std::shared_ptr<const SharedSecretCredentials> client)
      : client_(std::move(client)) {}

  uint8_t auth_type() const override { return kTestAuthType; }
  const char* name() const override { return "comsec test (shared secret)"; }
  // Refuses wanted features it cannot give (kFeatureDelegate,
  // kFeatureDceStyle) with SEC_E_UNSUPPORTED_FUNCTION, credentials of
  // another package with SEC_E_UNKNOWN_CREDENTIALS, and a client without
  // credentials with SEC_E_NO_CREDENTIALS.
  Result<std::unique_ptr<SecurityContext>> Start(const StartParams& params) override;

 private:
  std::optional<SharedSecretServerOptions> server_;
  std::shared_ptr<const SharedSecretCredentials> client_;
};

}  // namespace comsec::rpc::testing
