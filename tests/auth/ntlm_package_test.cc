// The NTLM package's handshake between our client and server contexts,
// without sockets: accounts, tokens, and every attack the issue and the
// conformance cases name (30–33), plus negative tests for each message
// field.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <unistd.h>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/store_accounts.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/security/access_check.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"
#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::auth::ntlm {
namespace {

using security::AuthnLevel;

using rpc::ConnectionInfo;

class MemoryAccounts : public AccountSource {
 public:
  std::string DomainName() const override { return "TESTDOM"; }
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override {
    for (const auto& a : accounts) {
      if (AccountNamesEqual(a.name, user)) return {a};
    }
    return std::optional<AccountRecord>();
  }
  std::vector<AccountRecord> accounts;
};

const security::Sid kDomainSid(5, {21, 1, 2, 3});

struct Exchange {
  // Interceptors an attacker in the middle could apply.
  std::function<void(std::vector<uint8_t>&)> on_negotiate, on_challenge, on_authenticate;
};

class NtlmHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    AccountRecord alice;
    alice.name = "alice";
    alice.nt_hash = NtHash(u"Secret#1");
    alice.user_sid = kDomainSid.WithRid(1000);
    alice.group_sids = {kDomainSid.WithRid(1001)};
    accounts_.accounts.push_back(alice);
    AccountRecord bob = alice;
    bob.name = "bob";
    bob.disabled = true;
    accounts_.accounts.push_back(bob);
    options_.logger = log_.logger();
    options_.reflection = &reflection_;
    Revalidate();
  }

  // A validator with policy_ (tests change it first).
  void Revalidate() {
    validator_ = std::make_unique<LocalLogonValidator>(&accounts_, policy_,
                                                       validator_log_.logger(),
                                                       [this] { return now_; });
    options_.validator = validator_.get();
  }

  // Runs the three legs; returns the server's status after AUTHENTICATE
  // (or the first failure).
  Status Run(ClientCredentials creds, AuthnLevel level, const Exchange& x = {},
             Misbehaviour hooks = {}) {
    NtlmPackage real_server_pkg(options_);
    MisbehavingPackage server_pkg(&real_server_pkg, hooks);
    // Client and server in one process share its reflection registry, and
    // talk over one connection: a direct logon, which the registry allows.
    NtlmPackage client_pkg(std::move(creds), &reflection_);
    rpc::testing::TestConnection info;
    info.auth_level = level;
    info.peer = "192.0.2.7:4242";
    info.peer_endpoint = kClientEnd;
    info.local_endpoint = kServerEnd;
    server_ = std::move(*StartServerContext(server_pkg, info));
    rpc::testing::TestConnection client_info;
    client_info.auth_level = level;
    client_info.local_address = "192.0.2.7:4242";
    client_info.local_endpoint = kClientEnd;  // the same connection
    client_info.peer_endpoint = kServerEnd;
    client_ = std::move(*StartClientContext(client_pkg, client_info));
    auto neg = Leg(*client_, {});
    if (!neg.ok()) return neg.status();
    if (x.on_negotiate) x.on_negotiate(*neg);
    auto chal = Leg(*server_, *neg);
    if (!chal.ok()) return chal.status();
    if (x.on_challenge) x.on_challenge(*chal);
    auto auth = Leg(*client_, *chal);
    if (!auth.ok()) return auth.status();
    if (x.on_authenticate) x.on_authenticate(*auth);
    auto done = Leg(*server_, *auth);
    if (!done.ok()) return done.status();
    EXPECT_TRUE(server_->IsComplete());
    return Status::Ok();
  }

  ClientCredentials Alice(std::string password = "Secret#1") {
    ClientCredentials c;
    c.user = "alice";
    c.domain = "TESTDOM";
    c.password = password;
    return c;
  }

  const rpc::TransportEndpoint kClientEnd = rpc::testing::Ipv4(192, 0, 2, 7, 4242);
  const rpc::TransportEndpoint kServerEnd = rpc::testing::Ipv4(192, 0, 2, 1, 135);
  ReflectionRegistry reflection_;
  MemoryAccounts accounts_;
  LogonPolicy policy_;
  std::unique_ptr<LocalLogonValidator> validator_;
  ServerOptions options_;
  CapturedLog log_;            // the package's (the server's) events
  CapturedLog validator_log_;  // the validator's (comsecd's) events
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  std::unique_ptr<rpc::SecurityContext> server_, client_;
};

TEST_F(NtlmHandshake, GoodPasswordMakesANetworkToken) {
  ASSERT_TRUE(Run(Alice(), AuthnLevel::kPktPrivacy).ok());
  EXPECT_EQ(server_->PeerName(), "TESTDOM\\alice");
  auto token = server_->PeerToken();
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->user(), kDomainSid.WithRid(1000));
  EXPECT_TRUE(token->IsMember(kDomainSid.WithRid(1001)));
  EXPECT_TRUE(token->IsMember(security::well_known::Network()));
  EXPECT_TRUE(token->IsMember(security::well_known::AuthenticatedUsers()));
  EXPECT_TRUE(token->IsMember(security::well_known::Everyone()));
  EXPECT_FALSE(token->IsMember(security::well_known::Interactive()));
}

// The token an NTLM logon makes is what access checks see: a descriptor
// granting the account's group lets the caller in, one denying NETWORK
// logons keeps it out.
TEST_F(NtlmHandshake, TheLogonTokenDrivesAccessChecks) {
  ASSERT_TRUE(Run(Alice(), AuthnLevel::kPktPrivacy).ok());
  const security::Token& token = *server_->PeerToken();
  auto grant = security::ParseSddl("O:BAG:BAD:(A;;CCDC;;;" +
                                   kDomainSid.WithRid(1001).ToString() + ")");
  ASSERT_TRUE(grant.ok());
  auto r = security::AccessCheck(*grant, token, security::COM_RIGHTS_EXECUTE);
  EXPECT_TRUE(r.allowed);
  auto deny = security::ParseSddl("O:BAG:BAD:(D;;CCDC;;;NU)(A;;CCDC;;;WD)");
  ASSERT_TRUE(deny.ok());
  EXPECT_FALSE(security::AccessCheck(*deny, token, security::COM_RIGHTS_EXECUTE).allowed);
}

TEST_F(NtlmHandshake, UserNameIsCaseInsensitiveAndDomainMayBeEmptyOrDot) {
  auto c = Alice();
  c.user = "ALICE";
  c.domain = "";
  EXPECT_TRUE(Run(c, AuthnLevel::kPktIntegrity).ok());
  c.domain = ".";
  EXPECT_TRUE(Run(c, AuthnLevel::kPktIntegrity).ok());
  EXPECT_EQ(server_->PeerName(), "TESTDOM\\alice");
}

TEST_F(NtlmHandshake, NtHashCredentialWorks) {
  ClientCredentials c;
  c.user = "alice";
  c.nt_hash = NtHash(u"Secret#1");
  EXPECT_TRUE(Run(c, AuthnLevel::kPktIntegrity).ok());
}

TEST_F(NtlmHandshake, WrongPasswordUnknownUserAndDisabledFail) {
  Status s = Run(Alice("wrong"), AuthnLevel::kPktIntegrity);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("wrong password"), std::string::npos);
  auto mallory = Alice();
  mallory.user = "mallory";
  EXPECT_EQ(Run(mallory, AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  auto bob = Alice();
  bob.user = "bob";
  EXPECT_EQ(Run(bob, AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  // Every refusal is one event with the peer, the account, the level and
  // the reason, from the package (the server) and from the validator
  // (comsecd); the password or hash never appears.
  const std::string wrong = "wrong password (the NTLMv2 proof does not match the account's hash)";
  auto refused = [](std::string account, AuthnLevel level, std::string why) {
    return LogEvent("ntlm.logon_refused", LogSeverity::kWarning,
                    "logon of " + account + " refused: " + why)
        .Peer("192.0.2.7:4242")
        .Principal(account)
        .AuthnLevel(security::ToNumber(level), security::AuthnLevelName(level))
        .Reason(why)
        .Hresult(SEC_E_LOGON_DENIED);
  };
  EXPECT_EQ(log_.events(),
            (std::vector<LogEvent>{
                refused("TESTDOM\\alice", AuthnLevel::kPktIntegrity, wrong),
                refused("TESTDOM\\mallory", AuthnLevel::kConnect, "unknown user"),
                refused("TESTDOM\\bob", AuthnLevel::kConnect, "the account is disabled")}));
  auto denied = [](std::string account, std::string why) {
    return LogEvent("ntlm.validation_refused", LogSeverity::kWarning,
                    "logon of '" + account + "' from 192.0.2.7:4242 refused: " + why)
        .Peer("192.0.2.7:4242")
        .Principal(account)
        .Reason(why)
        .Hresult(SEC_E_LOGON_DENIED);
  };
  EXPECT_EQ(validator_log_.events(),
            (std::vector<LogEvent>{denied("TESTDOM\\alice", wrong),
                                   denied("TESTDOM\\mallory", "unknown user"),
                                   denied("TESTDOM\\bob", "the account is disabled")}));
  for (const auto* log : {&log_, &validator_log_}) {
    for (const auto& l : log->TextLines()) EXPECT_EQ(l.find("Secret#1"), std::string::npos);
  }
}

// Issue 9 item 15: a client that sends its workgroup (Samba's tools send
// WORKGROUP) or its own machine name is validated against the local
// accounts, as a standalone Windows machine does, and the log says so with
// the domain as sent; a domain the store names foreign stays refused.
TEST_F(NtlmHandshake, ForeignDomainNameMapsToLocalAccountsUnlessKnownForeign) {
  auto workgroup = Alice();
  workgroup.domain = "WORKGROUP";
  ASSERT_TRUE(Run(workgroup, AuthnLevel::kPktPrivacy).ok());
  EXPECT_EQ(server_->PeerName(), "TESTDOM\\alice");
  EXPECT_EQ(validator_log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.foreign_domain_mapped", LogSeverity::kNotice,
                         "logon of 'WORKGROUP\\alice' from 192.0.2.7:4242: domain 'WORKGROUP' "
                         "is not this machine's (TESTDOM); validated against its local "
                         "accounts, as a standalone Windows machine does")
                    .Peer("192.0.2.7:4242")
                    .Principal("WORKGROUP\\alice")
                    .Extra("domain", "WORKGROUP")});
  // A wrong password under a foreign name is still a wrong password.
  workgroup.password = "nope";
  EXPECT_EQ(Run(workgroup, AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);

  policy_.foreign_domains = {"elsewhere"};
  Revalidate();
  auto foreign = Alice();
  foreign.domain = "ELSEWHERE";
  Status s = Run(foreign, AuthnLevel::kConnect);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("domain 'ELSEWHERE' is a foreign domain"),
            std::string::npos)
      << s.message();
  // Our own names and "." are this machine.
  auto dot = Alice();
  dot.domain = ".";
  EXPECT_TRUE(Run(dot, AuthnLevel::kConnect).ok());
}

// Issue 9 item 10: Windows's account lockout policy. After `threshold`
// failures within the reset window the account is locked for `duration`;
// while locked even the right password fails with the same code as a wrong
// one (the wire cannot tell them apart), and the log says which it was.
TEST_F(NtlmHandshake, AccountLocksOutAfterThresholdAndUnlocksAfterDuration) {
  policy_.lockout.threshold = 3;
  policy_.lockout.duration = std::chrono::minutes(10);
  policy_.lockout.reset_window = std::chrono::minutes(10);
  Revalidate();
  const HResult wrong_password = Run(Alice("guess1"), AuthnLevel::kConnect).code();
  EXPECT_EQ(wrong_password, SEC_E_LOGON_DENIED);
  EXPECT_EQ(Run(Alice("guess2"), AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  EXPECT_EQ(validator_log_.Named("ntlm.validation_refused").size(), 2u);
  EXPECT_TRUE(validator_log_.Named("ntlm.account_locked_out").empty());
  EXPECT_EQ(Run(Alice("guess3"), AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  const auto events = validator_log_.events();
  ASSERT_EQ(events.size(), 4u);  // three refusals and the lockout, before the third's
  EXPECT_EQ(events[2], LogEvent("ntlm.account_locked_out", LogSeverity::kWarning,
                                "account 'TESTDOM\\alice' locked out after 3 failed logons "
                                "within 10 minutes (the last from 192.0.2.7:4242); it "
                                "unlocks in 10 minutes (LockoutBadCount 3)")
                           .Peer("192.0.2.7:4242")
                           .Principal("TESTDOM\\alice")
                           .Reason("LockoutBadCount 3 reached")
                           .Extra("failed_logons", "3")
                           .Extra("lockout_minutes", "10"));
  EXPECT_EQ(events[3].name, "ntlm.validation_refused");
  // The right password, while locked: the same refusal on the wire.
  Status locked = Run(Alice(), AuthnLevel::kPktPrivacy);
  EXPECT_EQ(locked.code(), wrong_password);
  EXPECT_NE(std::string(locked.message()).find("the account is locked out after 3 failed "
                                                "logons, for 10 minutes more"),
            std::string::npos)
      << locked.message();
  // Other accounts are not affected... (bob is disabled: refused as disabled)
  now_ += std::chrono::minutes(9);
  EXPECT_EQ(Run(Alice(), AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  now_ += std::chrono::minutes(1);
  EXPECT_TRUE(Run(Alice(), AuthnLevel::kConnect).ok());
}

TEST_F(NtlmHandshake, LockoutCountResetsAfterWindowAndOnSuccess) {
  policy_.lockout.threshold = 3;
  policy_.lockout.reset_window = std::chrono::minutes(5);
  Revalidate();
  EXPECT_FALSE(Run(Alice("a"), AuthnLevel::kConnect).ok());
  EXPECT_FALSE(Run(Alice("b"), AuthnLevel::kConnect).ok());
  now_ += std::chrono::minutes(5);  // the window passed: the count starts again
  EXPECT_FALSE(Run(Alice("c"), AuthnLevel::kConnect).ok());
  EXPECT_FALSE(Run(Alice("d"), AuthnLevel::kConnect).ok());
  EXPECT_TRUE(Run(Alice(), AuthnLevel::kConnect).ok());  // 2 < 3: not locked
  // A success clears the count.
  EXPECT_FALSE(Run(Alice("e"), AuthnLevel::kConnect).ok());
  EXPECT_FALSE(Run(Alice("f"), AuthnLevel::kConnect).ok());
  EXPECT_TRUE(Run(Alice(), AuthnLevel::kConnect).ok());
  EXPECT_TRUE(validator_log_.Named("ntlm.account_locked_out").empty());
  EXPECT_EQ(validator_log_.Named("ntlm.validation_refused").size(), 6u);
}

TEST_F(NtlmHandshake, LockoutThresholdZeroNeverLocks) {
  policy_.lockout.threshold = 0;
  Revalidate();
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(Run(Alice("x"), AuthnLevel::kConnect).ok());
  EXPECT_TRUE(Run(Alice(), AuthnLevel::kConnect).ok());
}

TEST(LockoutPolicy, DefaultsAreWindows11s) {
  LockoutPolicy p;
  EXPECT_EQ(p.threshold, 10u);
  EXPECT_EQ(p.duration, std::chrono::minutes(10));
  EXPECT_EQ(p.reset_window, std::chrono::minutes(10));
}

// Issue 9 item 8: a user name holding a newline cannot forge a log line.
TEST_F(NtlmHandshake, PeerSuppliedNamesAreEscapedInLogs) {
  auto forger = Alice();
  forger.user = "mallory\nntlm: WEAK: accepted an NTLMv1 logon of TESTDOM\\admin";
  forger.domain = "EVIL\x1b[2J";
  EXPECT_EQ(Run(forger, AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  // The events hold the names as sent; the sinks escape them.
  const std::string sent = forger.domain + "\\" + forger.user;
  EXPECT_EQ(validator_log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.validation_refused", LogSeverity::kWarning,
                         "logon of '" + sent + "' from 192.0.2.7:4242 refused: unknown user")
                    .Peer("192.0.2.7:4242")
                    .Principal(sent)
                    .Reason("unknown user")
                    .Hresult(SEC_E_LOGON_DENIED)});
  ASSERT_EQ(log_.events().size(), 1u);
  EXPECT_EQ(log_.events()[0].principal, sent);
  // Each is one text line, with no control character left.
  for (const auto* log : {&log_, &validator_log_}) {
    for (const auto& l : log->TextLines()) {
      EXPECT_EQ(l.find('\n'), l.size() - 1) << l;
      EXPECT_EQ(l.find('\x1b'), std::string::npos) << l;
      EXPECT_NE(l.find(" principal=\"EVIL\\x1b[2J\\x5cmallory\\x0antlm: WEAK: accepted an "
                       "NTLMv1 logon of TESTDOM\\x5cadmin\" "),
                std::string::npos)
          << l;
    }
  }
}

TEST_F(NtlmHandshake, AnonymousRefusedUnlessAllowed) {
  EXPECT_EQ(Run(ClientCredentials{}, AuthnLevel::kConnect).code(), SEC_E_LOGON_DENIED);
  const std::string why =
      "anonymous (null session) logons are not allowed on this server; the client must "
      "authenticate";
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{LogEvent("ntlm.logon_refused", LogSeverity::kWarning,
                                           "logon of NT AUTHORITY\\ANONYMOUS LOGON refused: " + why)
                                      .Peer("192.0.2.7:4242")
                                      .Principal("NT AUTHORITY\\ANONYMOUS LOGON")
                                      .AuthnLevel(2, "RPC_C_AUTHN_LEVEL_CONNECT")
                                      .Reason(why)
                                      .Hresult(SEC_E_LOGON_DENIED)});
  options_.allow_anonymous = true;
  ASSERT_TRUE(Run(ClientCredentials{}, AuthnLevel::kConnect).ok());
  EXPECT_EQ(server_->PeerName(), "NT AUTHORITY\\ANONYMOUS LOGON");
  EXPECT_TRUE(server_->PeerToken()->IsAnonymous());
}

// Case 30: the MIC binds the three messages.
TEST_F(NtlmHandshake, Case30_ZeroedMicFails) {
  Exchange x;
  x.on_authenticate = [](std::vector<uint8_t>& m) {
    std::fill_n(m.begin() + kMicOffset, 16, 0);
  };
  Status s = Run(Alice(), AuthnLevel::kPktIntegrity, x);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("MIC"), std::string::npos);
}

TEST_F(NtlmHandshake, Case30_MicRemovedAndNegotiateFlagsClearedFails) {
  const uint32_t cleared = NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                           NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_VERSION;
  Exchange x;
  x.on_negotiate = [&](std::vector<uint8_t>& m) {
    auto n = *NegotiateMessage::Decode(m);
    n.flags &= ~cleared;
    n.version.reset();
    m = n.Encode();
  };
  x.on_authenticate = [&](std::vector<uint8_t>& m) {
    auto a = *AuthenticateMessage::Decode(m);
    a.flags &= ~cleared;
    a.encrypted_session_key.clear();
    m = a.Encode(/*with_mic=*/false);
  };
  Status s = Run(Alice(), AuthnLevel::kConnect, x);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("has none"), std::string::npos);
}

TEST_F(NtlmHandshake, Case30_MsvAvFlagsClearedBreaksTheProof) {
  Exchange x;
  x.on_authenticate = [](std::vector<uint8_t>& m) {
    auto a = *AuthenticateMessage::Decode(m);
    // Find MsvAvFlags (id 6, length 4) in the blob and clear its MIC bit.
    auto& r = a.nt_response;
    for (size_t i = 16 + 28; i + 8 <= r.size(); ++i) {
      if (r[i] == 6 && r[i + 1] == 0 && r[i + 2] == 4 && r[i + 3] == 0) {
        r[i + 4] &= ~kAvFlagMicPresent;
        break;
      }
    }
    m = a.Encode(/*with_mic=*/false);
  };
  Status s = Run(Alice(), AuthnLevel::kConnect, x);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("proof"), std::string::npos);
}

TEST_F(NtlmHandshake, Case31_ReflectedChallengeRefused) {
  // An attacker relays our server's CHALLENGE to a client in this process
  // and its AUTHENTICATE back to the server.
  NtlmPackage server_pkg(options_);
  NtlmPackage client_pkg(Alice(), &reflection_);
  const rpc::TransportEndpoint attacker = rpc::testing::Ipv4(198, 51, 100, 9, 5000);
  rpc::testing::TestConnection info;
  info.auth_level = AuthnLevel::kPktIntegrity;
  info.peer = "198.51.100.9:5000";  // the attacker's connection to our server
  info.peer_endpoint = attacker;
  info.local_endpoint = kServerEnd;
  auto server = std::move(*StartServerContext(server_pkg, info));
  rpc::testing::TestConnection to_attacker;  // our client's connection to the attacker
  to_attacker.auth_level = AuthnLevel::kPktIntegrity;
  to_attacker.local_endpoint = rpc::testing::Ipv4(10, 0, 0, 1, 49152);
  to_attacker.peer_endpoint = rpc::testing::Ipv4(198, 51, 100, 9, 445);
  auto client = std::move(*StartClientContext(client_pkg, to_attacker));
  auto neg = *Leg(*client, {});
  auto chal = *Leg(*server, neg);
  auto auth = *Leg(*client, chal);  // the client records the challenge
  EXPECT_EQ(reflection_.size(), 1u);
  auto r = Leg(*server, auth);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(r.status().message()).find("reflected logon (MS08-068)"),
            std::string::npos)
      << r.status().ToString();
  const std::string why =
      "the AUTHENTICATE answers a challenge that a client in this process received: a "
      "reflected logon (MS08-068)";
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{LogEvent("ntlm.reflection_refused", LogSeverity::kWarning,
                                           "logon of TESTDOM\\alice refused: " + why)
                                      .Peer("198.51.100.9:5000")
                                      .Principal("TESTDOM\\alice")
                                      .AuthnLevel(5, "RPC_C_AUTHN_LEVEL_PKT_INTEGRITY")
                                      .Reason(why)
                                      .Hresult(SEC_E_LOGON_DENIED)});
}

// The same relay, but the attacker sits on our client's connection's far
// end with the same port numbers mirrored: only both ends matching make a
// direct logon, so a peer that copies one end is still refused.
TEST_F(NtlmHandshake, Case31_ReflectionWithOneMatchingEndRefused) {
  NtlmPackage server_pkg(options_);
  NtlmPackage client_pkg(Alice(), &reflection_);
  rpc::testing::TestConnection info;
  info.auth_level = AuthnLevel::kConnect;
  info.peer_endpoint = kClientEnd;                                // as if our client
  info.local_endpoint = rpc::testing::Ipv4(192, 0, 2, 1, 4444);  // another listener
  auto server = std::move(*StartServerContext(server_pkg, info));
  rpc::testing::TestConnection client_info;
  client_info.auth_level = AuthnLevel::kConnect;
  client_info.local_endpoint = kClientEnd;
  client_info.peer_endpoint = kServerEnd;
  auto client = std::move(*StartClientContext(client_pkg, client_info));
  auto chal = *Leg(*server, *Leg(*client, {}));
  auto r = Leg(*server, *Leg(*client, chal));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED);
}

// A server connection whose ends are not known cannot prove it is the
// connection our client received the challenge on: refused (fail closed).
TEST_F(NtlmHandshake, Case31_UnknownServerEndpointsFailClosed) {
  NtlmPackage server_pkg(options_);
  NtlmPackage client_pkg(Alice(), &reflection_);
  rpc::testing::TestConnection info;
  info.auth_level = AuthnLevel::kConnect;
  info.peer = "192.0.2.7:4242";  // the log string alone proves nothing
  auto server = std::move(*StartServerContext(server_pkg, info));
  rpc::testing::TestConnection client_info;
  client_info.auth_level = AuthnLevel::kConnect;
  client_info.local_endpoint = kClientEnd;
  client_info.peer_endpoint = kServerEnd;
  auto client = std::move(*StartClientContext(client_pkg, client_info));
  auto chal = *Leg(*server, *Leg(*client, {}));
  auto r = Leg(*server, *Leg(*client, chal));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("reflected"), std::string::npos);
}

// A server package without a registry checks nothing and says so once;
// a client package without one records nothing.
TEST_F(NtlmHandshake, WithoutRegistryNothingIsRecordedAndTheServerSaysSo) {
  ServerOptions o = options_;
  o.reflection = nullptr;
  NtlmPackage server_pkg(o);
  const std::vector<LogEvent> once{LogEvent(
      "ntlm.no_reflection_registry", LogSeverity::kWarning,
      "this server has no reflection registry: an AUTHENTICATE relayed from a client in "
      "this process would not be recognized (MS08-068)")};
  EXPECT_EQ(log_.events(), once);
  NtlmPackage client_pkg(Alice());
  rpc::testing::TestConnection info;
  info.auth_level = AuthnLevel::kConnect;
  auto server = std::move(*StartServerContext(server_pkg, info));
  auto client = std::move(*StartClientContext(client_pkg, info));
  auto chal = *Leg(*server, *Leg(*client, {}));
  EXPECT_TRUE(Leg(*server, *Leg(*client, chal)).ok());
  EXPECT_EQ(reflection_.size(), 0u);
  EXPECT_EQ(log_.events(), once);  // once, not per context
}

// Case 32: a client never continues with less than its level needs.
TEST_F(NtlmHandshake, Case32_ClientAbortsWhenTheServerDropsSigning) {
  Misbehaviour drop_sign;
  drop_sign.challenge_flags_removed = NTLMSSP_NEGOTIATE_SIGN;
  Exchange strip_sign;
  strip_sign.on_challenge = [](std::vector<uint8_t>& m) {
    auto c = *ChallengeMessage::Decode(m);
    c.flags &= ~NTLMSSP_NEGOTIATE_SIGN;
    m = c.Encode();
  };
  Status s = Run(Alice(), AuthnLevel::kPktIntegrity, strip_sign);
  EXPECT_EQ(s.code(), SEC_E_ALGORITHM_MISMATCH);
  Exchange strip_ess;
  strip_ess.on_challenge = [](std::vector<uint8_t>& m) {
    auto c = *ChallengeMessage::Decode(m);
    c.flags &= ~NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
    m = c.Encode();
  };
  EXPECT_EQ(Run(Alice(), AuthnLevel::kConnect, strip_ess).code(), SEC_E_ALGORITHM_MISMATCH);
  Exchange strip_seal;
  strip_seal.on_challenge = [](std::vector<uint8_t>& m) {
    auto c = *ChallengeMessage::Decode(m);
    c.flags &= ~NTLMSSP_NEGOTIATE_SEAL;
    m = c.Encode();
  };
  EXPECT_EQ(Run(Alice(), AuthnLevel::kPktPrivacy, strip_seal).code(), SEC_E_ALGORITHM_MISMATCH);
  // A CHALLENGE without signing (here from a misbehaving server package):
  // the client refuses it at PKT_INTEGRITY; at CONNECT, where nothing is
  // signed, the client goes on, and only the MIC (which covers the
  // CHALLENGE the server really sent) stops the exchange.
  EXPECT_EQ(Run(Alice(), AuthnLevel::kPktIntegrity, {}, drop_sign).code(),
            SEC_E_ALGORITHM_MISMATCH);
  EXPECT_EQ(Run(Alice(), AuthnLevel::kConnect, {}, drop_sign).code(), SEC_E_LOGON_DENIED);
  // A man in the middle who strips the flag at CONNECT breaks the MIC.
  EXPECT_EQ(Run(Alice(), AuthnLevel::kConnect, strip_sign).code(), SEC_E_LOGON_DENIED);
}

TEST_F(NtlmHandshake, ServerRefusesNtlmV1AndLm) {
  Exchange x;
  x.on_authenticate = [](std::vector<uint8_t>& m) {
    auto a = *AuthenticateMessage::Decode(m);
    a.nt_response.assign(24, 0x11);  // an NTLMv1-sized response
    m = a.Encode(true);
  };
  Status s = Run(Alice(), AuthnLevel::kConnect, x);
  EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(s.message()).find("NTLMv2 only"), std::string::npos);
}

TEST_F(NtlmHandshake, Case33_ServerChallengesAreFreshAndNeverZero) {
  NtlmPackage pkg(options_);
  std::set<uint64_t> seen;
  NegotiateMessage n;
  n.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
            NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_128;
  auto neg = n.Encode();
  for (int i = 0; i < 100000; ++i) {
    auto ctx = std::move(*StartServerContext(pkg, TestConnection{}));
    auto chal = ChallengeMessage::Decode(*Leg(*ctx, neg));
    ASSERT_TRUE(chal.ok());
    uint64_t v = 0;
    for (uint8_t b : chal->server_challenge) v = v << 8 | b;
    ASSERT_NE(v, 0u);
    ASSERT_TRUE(seen.insert(v).second) << "challenge repeated after " << i;
  }
}

TEST_F(NtlmHandshake, ChallengeAnnouncesTheNamesImpacketNeeds) {
  NtlmPackage pkg(options_);
  NegotiateMessage n;
  n.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY;
  auto ctx = std::move(*StartServerContext(pkg, TestConnection{}));
  auto chal = *ChallengeMessage::Decode(*Leg(*ctx, n.Encode()));
  auto pairs = *AvPairs::Decode(chal.target_info);
  for (AvId id : {AvId::kNbComputerName, AvId::kNbDomainName, AvId::kDnsComputerName,
                  AvId::kDnsDomainName, AvId::kTimestamp}) {
    EXPECT_NE(pairs.Find(id), nullptr) << static_cast<int>(id);
  }
  EXPECT_EQ(FromUtf16Le(pairs.Find(AvId::kNbDomainName)->value), u"TESTDOM");
}

TEST_F(NtlmHandshake, SignedAndSealedPdusRoundTrip) {
  ASSERT_TRUE(Run(Alice(), AuthnLevel::kPktPrivacy).ok());
  std::vector<uint8_t> pdu(64 + 16, 0);
  for (size_t i = 0; i < 64; ++i) pdu[i] = static_cast<uint8_t>(i);
  const auto plain = pdu;
  std::span<uint8_t> sig(pdu.data() + 64, 16);
  ASSERT_TRUE(ProtectPdu(*client_, pdu, 24, 56, AuthnLevel::kPktPrivacy, sig).ok());
  EXPECT_NE(std::vector<uint8_t>(pdu.begin() + 24, pdu.begin() + 56),
            std::vector<uint8_t>(plain.begin() + 24, plain.begin() + 56));
  std::vector<uint8_t> sig_copy(sig.begin(), sig.end());
  ASSERT_TRUE(VerifyPdu(*server_, pdu, 24, 56, AuthnLevel::kPktPrivacy, sig_copy).ok());
  EXPECT_EQ(std::vector<uint8_t>(pdu.begin(), pdu.begin() + 64),
            std::vector<uint8_t>(plain.begin(), plain.begin() + 64));
}

// ==== Message parsers: negative tests for every field ====================

std::vector<uint8_t> GoodAuthenticate() {
  MemoryAccounts accounts;
  LocalLogonValidator validator(&accounts, {});
  ServerOptions o;
  o.validator = &validator;
  NtlmPackage server_pkg(o);
  ClientCredentials c;
  c.user = "u";
  c.password = "p";
  NtlmPackage client_pkg(c);
  rpc::testing::TestConnection same;
  same.peer = same.local_address = "127.0.0.1:1";
  auto server = std::move(*StartServerContext(server_pkg, same));
  auto client = std::move(*StartClientContext(client_pkg, same));
  auto chal = *Leg(*server, *Leg(*client, {}));
  return *Leg(*client, chal);
}

TEST(NtlmMessages, EveryTruncationIsAnErrorNeverACrash) {
  auto auth = GoodAuthenticate();
  ASSERT_TRUE(AuthenticateMessage::Decode(auth).ok());
  for (size_t n = 0; n < auth.size(); ++n) {
    auto r = AuthenticateMessage::Decode(std::span(auth).first(n));
    EXPECT_FALSE(r.ok()) << n;
  }
  NegotiateMessage neg;
  neg.flags = NTLMSSP_NEGOTIATE_UNICODE;
  auto nb = neg.Encode();
  for (size_t n = 0; n < 16; ++n) EXPECT_FALSE(NegotiateMessage::Decode(std::span(nb).first(n)).ok());
}

TEST(NtlmMessages, SignatureTypeAndFieldBounds) {
  auto auth = GoodAuthenticate();
  auto bad_sig = auth;
  bad_sig[0] = 'X';
  EXPECT_NE(std::string(AuthenticateMessage::Decode(bad_sig).status().message()).find("signature"),
            std::string::npos);
  auto bad_type = auth;
  bad_type[8] = 2;
  EXPECT_FALSE(AuthenticateMessage::Decode(bad_type).ok());
  EXPECT_FALSE(ChallengeMessage::Decode(auth).ok());
  EXPECT_FALSE(NegotiateMessage::Decode(auth).ok());
  // Each of the six payload fields pointing outside the message.
  for (size_t field : {12u, 20u, 28u, 36u, 44u, 52u}) {
    auto m = auth;
    m[field] = 0x40;  // Len
    m[field + 4] = 0xF0;
    m[field + 5] = 0xFF;  // Offset far beyond the end
    auto r = AuthenticateMessage::Decode(m);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(std::string(r.status().message()).find("outside"), std::string::npos);
  }
  // A field overlapping the fixed header.
  auto overlap = auth;
  overlap[36 + 4] = 8;
  overlap[36 + 5] = 0;
  EXPECT_FALSE(AuthenticateMessage::Decode(overlap).ok());
  // Odd-length UTF-16 user name.
  auto odd = auth;
  odd[36] = 1;
  EXPECT_FALSE(AuthenticateMessage::Decode(odd).ok());
  // OEM strings are refused.
  auto oem = auth;
  oem[60] &= ~NTLMSSP_NEGOTIATE_UNICODE;
  EXPECT_FALSE(AuthenticateMessage::Decode(oem).ok());
}

TEST(NtlmMessages, NegotiateAndChallengeFieldsAreBounded) {
  // NEGOTIATE: a supplied domain or workstation field outside the message.
  NegotiateMessage n;
  n.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED |
            NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED;
  n.domain = "DOM";
  n.workstation = "WS";
  auto nb = n.Encode();
  auto decoded = NegotiateMessage::Decode(nb);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->domain, "DOM");
  EXPECT_EQ(decoded->workstation, "WS");
  for (size_t field : {16u, 24u}) {
    auto m = nb;
    m[field + 4] = 0xFF;  // offset far past the end
    EXPECT_FALSE(NegotiateMessage::Decode(m).ok()) << field;
  }
  // CHALLENGE: target name and target info bounds, odd UTF-16, bad AV pairs.
  ChallengeMessage c;
  c.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_TARGET_INFO;
  c.target_name = u"SRV";
  AvPairs info;
  info.SetString(AvId::kNbComputerName, u"SRV");
  c.target_info = info.Encode();
  auto cb = c.Encode();
  ASSERT_TRUE(ChallengeMessage::Decode(cb).ok());
  for (size_t n = 0; n < 32; ++n) {
    EXPECT_FALSE(ChallengeMessage::Decode(std::span(cb).first(n)).ok()) << n;
  }
  for (size_t field : {12u, 40u}) {
    auto m = cb;
    m[field + 4] = 0xF0;
    m[field + 5] = 0xFF;
    EXPECT_FALSE(ChallengeMessage::Decode(m).ok()) << field;
  }
  auto odd = cb;
  odd[12] = 5;  // TargetName length 5 in UTF-16
  EXPECT_FALSE(ChallengeMessage::Decode(odd).ok());
  auto bad_info = cb;
  bad_info[bad_info.size() - 4] = 1;  // MsvAvEOL turned into a pair that overruns
  bad_info[bad_info.size() - 2] = 9;
  EXPECT_FALSE(ChallengeMessage::Decode(bad_info).ok());
}

TEST(NtlmMessages, AvPairListsMustBeWellFormed) {
  EXPECT_FALSE(AvPairs::Decode(std::vector<uint8_t>{}).ok());           // no EOL
  EXPECT_FALSE(AvPairs::Decode(std::vector<uint8_t>{1, 0, 9, 0, 'a'}).ok());  // overrun
  EXPECT_FALSE(AvPairs::Decode(std::vector<uint8_t>{0, 0, 1, 0, 0}).ok());    // EOL with value
  EXPECT_FALSE(AvPairs::Decode(std::vector<uint8_t>{6, 0, 3, 0, 1, 2, 3, 0, 0, 0, 0}).ok());
  EXPECT_FALSE(AvPairs::Decode(std::vector<uint8_t>{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}).ok());
  auto ok = AvPairs::Decode(std::vector<uint8_t>{1, 0, 2, 0, 'a', 0, 0, 0, 0, 0});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->pairs.size(), 1u);
}

TEST(NtlmMessages, NtlmV2ResponseLayoutIsChecked) {
  EXPECT_FALSE(ParseNtlmV2Response(std::vector<uint8_t>(47, 1)).ok());
  std::vector<uint8_t> r(48, 0);
  EXPECT_FALSE(ParseNtlmV2Response(r).ok());  // RespType 0
  r[16] = r[17] = 1;
  EXPECT_TRUE(ParseNtlmV2Response(r).ok());   // empty AV list (EOL)
  r[44] = 1;
  r[46] = 0xFF;  // a pair claiming 255 bytes
  EXPECT_FALSE(ParseNtlmV2Response(r).ok());
}

TEST_F(NtlmHandshake, KeyExchangeWithAShortSessionKeyFails) {
  Exchange x;
  x.on_authenticate = [](std::vector<uint8_t>& m) {
    auto a = *AuthenticateMessage::Decode(m);
    a.encrypted_session_key.resize(8);
    m = a.Encode(true);
  };
  EXPECT_EQ(Run(Alice(), AuthnLevel::kConnect, x).code(), SEC_E_LOGON_DENIED);
}

// The store's account database (in the secrets file) as the server's
// account source.
TEST(StoreAccounts, ValidatesAgainstTheConfigStore) {
  const std::string path = "/tmp/comsec-ntlm-store-" + std::to_string(getpid()) + ".db";
  const std::string secrets_path = config::SecretsPathFor(path);
  for (const auto& p : {path, secrets_path}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  }
  auto secrets = std::move(*config::OpenSecrets(path));
  config::AccountDatabase db(secrets.get());
  // No domain yet: no accounts, and the source says so by an empty name.
  StoreAccountSource empty(std::move(*config::OpenSecrets(path)));
  EXPECT_EQ(empty.DomainName(), "");
  EXPECT_FALSE(empty.Lookup("carol")->has_value());
  auto domain = db.EnsureDomain("unit-host");
  ASSERT_TRUE(domain.ok());
  EXPECT_EQ(domain->name, "UNIT-HOST");
  ASSERT_TRUE(db.AddUser("carol", NtHash(u"pw")).ok());
  ASSERT_TRUE(db.AddGroup("operators").ok());
  ASSERT_TRUE(db.AddMember("operators", "CAROL").ok());
  // The domain created after the source was opened is found.
  EXPECT_EQ(empty.DomainName(), "UNIT-HOST");
  StoreAccountSource source(std::move(*config::OpenSecrets(path)));
  LocalLogonValidator validator(&source, {});
  ServerOptions o;
  o.validator = &validator;
  NtlmPackage server_pkg(o);
  ClientCredentials c;
  c.user = "carol";
  c.password = "pw";
  NtlmPackage client_pkg(c);
  rpc::testing::TestConnection info;
  info.peer = info.local_address = "127.0.0.1:2";
  auto server = std::move(*StartServerContext(server_pkg, info));
  auto client = std::move(*StartClientContext(client_pkg, info));
  auto chal = *Leg(*server, *Leg(*client, {}));
  ASSERT_TRUE(Leg(*server, *Leg(*client, chal)).ok());
  EXPECT_EQ(server->PeerName(), "UNIT-HOST\\carol");
  auto groups = *db.ListGroups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_TRUE(server->PeerToken()->IsMember(groups[0].sid));
  EXPECT_TRUE(groups[0].sid.IsInDomain(domain->sid));
  for (const auto& p : {path, secrets_path}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  }
}

}  // namespace
}  // namespace comsec::auth::ntlm
