// Driving security packages by hand in tests, the way the runtime does
// (rpc/security_package.h), and a package that misbehaves on purpose: the
// attacker-controlled peer of the negative tests. Test-only: production
// packages carry no test hooks.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "comsec/rpc/security_package.h"

namespace comsec::rpc::testing {

// The levels an authentication context may run at, CONNECT to PKT_PRIVACY.
inline constexpr security::AuthnLevel kEveryAuthenticatedLevel[] = {
    security::AuthnLevel::kConnect, security::AuthnLevel::kCall, security::AuthnLevel::kPkt,
    security::AuthnLevel::kPktIntegrity, security::AuthnLevel::kPktPrivacy};

// A connection as a test describes it, with the level the handshake asks.
struct TestConnection : ConnectionInfo {
  security::AuthnLevel auth_level = security::AuthnLevel::kConnect;
  security::ImpLevel imp_level = security::ImpLevel::kImpersonate;
};

// An IPv4 end "a.b.c.d:port", for ConnectionInfo's endpoints.
inline TransportEndpoint Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  TransportEndpoint e;
  e.family = TransportEndpoint::Family::kIpv4;
  e.address = {a, b, c, d};
  e.port = port;
  return e;
}

inline StartParams ParamsFor(Role role, const TestConnection& c) {
  StartParams p;
  p.role = role;
  p.auth_level = c.auth_level;
  p.imp_level = c.imp_level;
  p.connection = c;
  return p;
}

inline Result<std::unique_ptr<SecurityContext>> StartServerContext(SecurityPackage& p,
                                                                   const TestConnection& c) {
  return p.Start(ParamsFor(Role::kServer, c));
}
inline Result<std::unique_ptr<SecurityContext>> StartClientContext(SecurityPackage& p,
                                                                   const TestConnection& c) {
  return p.Start(ParamsFor(Role::kClient, c));
}

// One leg: the token to send.
inline Result<std::vector<uint8_t>> Leg(SecurityContext& c, std::span<const uint8_t> in) {
  auto r = c.Update(in);
  if (!r.ok()) return r.status();
  return std::move(r->output);
}

inline PduRegion Region(std::span<uint8_t> pdu, size_t stub_begin, size_t stub_end,
                        security::AuthnLevel level, std::span<uint8_t> signature) {
  PduRegion r;
  r.pdu = pdu;
  r.stub_begin = stub_begin;
  r.stub_end = stub_end;
  r.level = level;
  r.signature = signature;
  return r;
}

inline Status ProtectPdu(SecurityContext& c, std::span<uint8_t> pdu, size_t stub_begin,
                         size_t stub_end, security::AuthnLevel level,
                         std::span<uint8_t> signature) {
  return c.Protect(Region(pdu, stub_begin, stub_end, level, signature));
}

// The signature may be a copy or lie inside `pdu`.
inline Status VerifyPdu(SecurityContext& c, std::span<uint8_t> pdu, size_t stub_begin,
                        size_t stub_end, security::AuthnLevel level,
                        std::span<const uint8_t> signature) {
  return c.Verify(Region(pdu, stub_begin, stub_end, level,
                         std::span<uint8_t>(const_cast<uint8_t*>(signature.data()),
                                            signature.size())));
}

// How a misbehaving package misbehaves.
struct Misbehaviour {
  // Flip a bit of every outgoing signature after this many.
  std::optional<uint32_t> corrupt_signature_after;
  // Server side: drop these NTLM flags from the CHALLENGE (the second
  // message's NegotiateFlags at offset 20, [MS-NLMP] 2.2.1.2).
  uint32_t challenge_flags_removed = 0;
};

// Wraps a real package; its contexts do what the inner ones do, then
// misbehave as told.
class MisbehavingPackage : public SecurityPackage {
 public:
  MisbehavingPackage(SecurityPackage* inner, Misbehaviour m) : inner_(inner), m_(m) {}
  // Applies to contexts started afterwards; set before connections start.
  void set(Misbehaviour m) { m_ = m; }
  uint8_t auth_type() const override { return inner_->auth_type(); }
  const char* name() const override { return inner_->name(); }
  Result<std::unique_ptr<SecurityContext>> Start(const StartParams& params) override {
    auto inner = inner_->Start(params);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<SecurityContext>(new Context(std::move(*inner), m_));
  }

 private:
  class Context : public SecurityContext {
   public:
    Context(std::unique_ptr<SecurityContext> inner, Misbehaviour m)
        : inner_(std::move(inner)), m_(m) {}
    Result<UpdateResult> Update(std::span<const uint8_t> input) override {
      auto r = inner_->Update(input);
      if (!r.ok()) return r;
      if (m_.challenge_flags_removed && r->output.size() >= 24 && r->output[8] == 2) {
        uint32_t flags;
        std::memcpy(&flags, r->output.data() + 20, 4);
        flags &= ~m_.challenge_flags_removed;
        std::memcpy(r->output.data() + 20, &flags, 4);
      }
      return r;
    }
    bool IsComplete() const override { return inner_->IsComplete(); }
    uint32_t features() const override { return inner_->features(); }
    size_t SignatureSize(size_t n) const override { return inner_->SignatureSize(n); }
    Status Verify(const PduRegion& r) override { return inner_->Verify(r); }
    Status Protect(const PduRegion& r) override {
      Status s = inner_->Protect(r);
      if (s.ok() && m_.corrupt_signature_after && signed_++ >= *m_.corrupt_signature_after &&
          r.signature.size() > 5) {
        r.signature[5] ^= 0x01;
      }
      return s;
    }
    std::string PeerName() const override { return inner_->PeerName(); }
    std::shared_ptr<const security::Token> PeerToken() const override {
      return inner_->PeerToken();
    }

   private:
    std::unique_ptr<SecurityContext> inner_;
    Misbehaviour m_;
    uint32_t signed_ = 0;
  };

  SecurityPackage* inner_;
  Misbehaviour m_;
};

}  // namespace comsec::rpc::testing
