// A test peer that speaks NTLM to a ServerConnection through PDUs it builds
// field by field, protected by our real NTLM client context; and the real
// NTLM server package over a two-account source. Shared by the tests of
// the runtime's security rules (unverified requests, anonymous logons,
// refused auth3, association-group owners, per-connection limits).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/server_connection.h"
#include "package_test_support.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc::testing {

inline const SyntaxId kEchoSyntax{
    *Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
// impacket's auth_context_id (ctx + 79231).
inline constexpr uint32_t kPeerAuthContextId = 79231;

// alice/pw and bob/pw2 of RPCDOM.
class TwoAccounts : public auth::ntlm::AccountSource {
 public:
  std::string DomainName() const override { return "RPCDOM"; }
  Result<std::optional<auth::ntlm::AccountRecord>> Lookup(std::string_view user) override {
    auth::ntlm::AccountRecord a;
    if (user == "alice") {
      a.name = "alice";
      a.nt_hash = auth::ntlm::NtHash(u"pw");
      a.user_sid = security::Sid(5, {21, 9, 9, 9, 1000});
    } else if (user == "bob") {
      a.name = "bob";
      a.nt_hash = auth::ntlm::NtHash(u"pw2");
      a.user_sid = security::Sid(5, {21, 9, 9, 9, 1001});
    } else {
      return std::optional<auth::ntlm::AccountRecord>();
    }
    return std::optional<auth::ntlm::AccountRecord>(a);
  }
  // Validates against these accounts with the default (hardened) policy.
  auth::ntlm::LocalLogonValidator validator{this, {}};
};

inline auth::ntlm::ClientCredentials Credentials(std::string user, std::string password) {
  auth::ntlm::ClientCredentials c;
  c.user = std::move(user);
  if (!password.empty()) c.password = std::move(password);
  return c;
}

// What the server sent for one fragment, and whether it kept the
// connection open.
struct Replies {
  bool open = true;
  std::vector<Pdu> pdus;
  std::vector<std::vector<uint8_t>> raw;
};

inline Replies Feed(ServerConnection& conn, const std::vector<uint8_t>& bytes) {
  Replies r;
  r.open = conn.OnFragment(bytes, r.raw);
  for (const auto& f : r.raw) {
    auto d = DecodePdu(f);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (d.ok()) r.pdus.push_back(std::move(*d));
  }
  return r;
}

inline uint32_t FaultStatusOf(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

// One client association's NTLM handshake and PDU protection.
class NtlmPeer {
 public:
  NtlmPeer(auth::ntlm::ClientCredentials credentials, security::AuthnLevel level,
           uint32_t auth_context_id = kPeerAuthContextId)
      : package_(std::move(credentials)), level_(level), context_id_(auth_context_id) {
    rpc::testing::TestConnection info;
    info.auth_level = level;
    info.local_address = "203.0.113.5:6000";
    client_ = std::move(*StartClientContext(package_, info));
  }

  // A bind carrying NEGOTIATE.
  std::vector<uint8_t> Bind(const SyntaxId& syntax, uint32_t assoc_group_id = 0,
                            PduType type = PduType::kBind, uint16_t context_id = 0) {
    Pdu bind;
    bind.header.type = type;
    bind.header.call_id = 1;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.assoc_group_id = assoc_group_id;
    b.contexts.push_back({context_id, syntax, {Ndr20Syntax()}});
    bind.body = b;
    bind.auth = SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(level_), 0, 0,
                           context_id_,       *Leg(*client_, {})};
    return EncodePdu(bind);
  }
  // The auth3 answering a bind_ack's CHALLENGE with AUTHENTICATE.
  std::vector<uint8_t> Auth3(const Pdu& bind_ack, uint32_t call_id = 2) {
    auto authenticate = Leg(*client_, bind_ack.auth->auth_value);
    EXPECT_TRUE(authenticate.ok()) << authenticate.status().ToString();
    Pdu auth3;
    auth3.header.type = PduType::kAuth3;
    auth3.header.call_id = call_id;
    auth3.body = EmptyBody{};
    auth3.auth = SecTrailer{RPC_C_AUTHN_WINNT,
                            WireAuthnLevel(level_),
                            0,
                            0,
                            context_id_,
                            authenticate.ok() ? *authenticate : std::vector<uint8_t>{}};
    return EncodePdu(auth3);
  }
  // bind → bind_ack → auth3 on `conn`; the bind_ack.
  Pdu Authenticate(ServerConnection& conn, const SyntaxId& syntax = kEchoSyntax,
                   uint32_t assoc_group_id = 0) {
    auto ack = Feed(conn, Bind(syntax, assoc_group_id));
    EXPECT_EQ(ack.pdus.size(), 1u);
    if (ack.pdus.size() != 1 || ack.pdus[0].header.type != PduType::kBindAck) {
      ADD_FAILURE() << "bind refused";
      return Pdu{};
    }
    auto none = Feed(conn, Auth3(ack.pdus[0]));
    EXPECT_TRUE(none.pdus.empty());
    EXPECT_TRUE(none.open);
    return ack.pdus[0];
  }
  // A request protected at the association's level (a verifier even at
  // CALL and PKT, as Windows clients send).
  std::vector<uint8_t> Request(uint32_t call_id, std::vector<uint8_t> stub,
                               uint16_t opnum = 0, uint16_t context_id = 0) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.body = RequestBody{0, context_id, opnum, std::nullopt, std::move(stub)};
    if (level_ < security::AuthnLevel::kCall) return EncodePdu(p);  // CONNECT: none
    p.auth = SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(level_),     0, 0,
                        context_id_,       std::vector<uint8_t>(16, 0)};
    auto bytes = EncodePdu(p);
    std::span<uint8_t> sig(bytes.data() + bytes.size() - 16, 16);
    EXPECT_TRUE(ProtectPdu(*client_, bytes, kHeaderSize + 8, bytes.size() - 16 - kSecTrailerSize,
                                 level_, sig)
                    .ok());
    return bytes;
  }
  // A request with no verifier at all, as impacket sends at CALL and PKT.
  static std::vector<uint8_t> Unverified(uint32_t call_id, std::vector<uint8_t> stub,
                                         uint16_t opnum = 0, uint16_t context_id = 0) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.body = RequestBody{0, context_id, opnum, std::nullopt, std::move(stub)};
    return EncodePdu(p);
  }

 private:
  auth::ntlm::NtlmPackage package_;
  security::AuthnLevel level_;
  uint32_t context_id_;
  std::unique_ptr<SecurityContext> client_;
};

// An echo interface (opnum 0) and one whose minimum level is
// PKT_INTEGRITY, both recording the calls they serve.
struct RecordingInterfaces {
  static inline const SyntaxId kStrict{
      *Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};
  InterfaceRegistry registry;
  int invocations = 0;
  CallContext last;

  RecordingInterfaces() {
    auto record = [this](std::span<const uint8_t> stub, const CallContext& c)
        -> Result<std::vector<uint8_t>> {
      ++invocations;
      last = c;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    };
    InterfaceRegistration echo;
    echo.syntax = kEchoSyntax;
    echo.operations = {record};
    registry.Register(std::move(echo));
    InterfaceRegistration strict;
    strict.syntax = kStrict;
    strict.min_authn_level = security::AuthnLevel::kPktIntegrity;
    strict.operations = {record};
    registry.Register(std::move(strict));
  }
};

// The real NTLM server package over TwoAccounts.
inline std::unique_ptr<auth::ntlm::NtlmPackage> NtlmServerPackage(
    TwoAccounts* accounts, bool allow_anonymous = false) {
  auth::ntlm::ServerOptions o;
  o.validator = &accounts->validator;
  o.allow_anonymous = allow_anonymous;
  return std::make_unique<auth::ntlm::NtlmPackage>(o);
}

}  // namespace comsec::rpc::testing
