// comsecd's logon service (issue 9 item 2): who may ask, and hostile stubs
// in both directions. The happy path over real sockets is in
// ntlm_concurrency_test and interop.secrets_split.
#include "comsec/auth/ntlm/logon_service.h"

#include <gtest/gtest.h>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "../base/captured_log.h"

namespace comsec::auth::ntlm {
namespace {

class OneAccount : public AccountSource {
 public:
  std::string DomainName() const override { return "SVC"; }
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override {
    if (user != "alice" && user != "bob") return std::optional<AccountRecord>();
    AccountRecord a;
    a.name = std::string(user);
    a.nt_hash = NtHash(u"pw");
    a.user_sid = security::Sid(5, {21, 7, 7, 7, user == "alice" ? 1000u : 1001u});
    a.group_sids = {security::Sid(5, {21, 7, 7, 7, 1002})};
    // bob is mapped to a Unix identity (config::UnixMapping).
    if (user == "bob") a.unix_identity = security::UnixIdentity{65534, "", {65534, 100}, {"", ""}};
    return std::optional<AccountRecord>(a);
  }
};

// A logon request whose NTLMv2 response proves password "pw".
NetworkLogonRequest Proven(std::u16string user) {
  NetworkLogonRequest r;
  r.user = user;
  r.domain = u"SVC";
  r.peer = "192.0.2.1:7";
  const Challenge8 client_challenge{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<uint8_t> eol = {0, 0, 0, 0};
  r.nt_response = ComputeNtlmV2(NtOwfV2(NtHash(u"pw"), user, u"SVC"), r.server_challenge,
                                client_challenge,
                                MakeNtlmV2Blob(FileTimeNow(), client_challenge, eol))
                      .nt_response;
  return r;
}

class LogonService : public ::testing::Test {
 protected:
  LogonService() {
    LogonServiceOptions o;
    o.validator = &validator_;
    o.trusted_uids = {4000};
    o.logger = log_.logger();
    iface_ = LogonServiceInterface(o);
  }
  static rpc::CallContext Local(uint32_t uid) {
    rpc::CallContext c;
    c.local = c.has_peer = true;
    c.peer_uid = uid;
    c.peer_pid = 99;
    c.interface = LogonServiceSyntax();
    c.opnum = 1;
    return c;
  }
  Result<std::vector<uint8_t>> Logon(std::span<const uint8_t> stub) {
    return iface_.operations[1](stub, Local(0));
  }
  static NetworkLogonRequest Request(std::u16string user) {
    NetworkLogonRequest r;
    r.user = std::move(user);
    r.domain = u"SVC";
    r.nt_response.assign(48, 0x5a);
    r.peer = "192.0.2.1:7";
    return r;
  }

  OneAccount accounts_;
  LocalLogonValidator validator_{&accounts_, {}};
  CapturedLog log_;
  rpc::InterfaceRegistration iface_;
};

TEST_F(LogonService, OnlyRootItsOwnUserAndTrustedUidsMayAsk) {
  EXPECT_TRUE(iface_.security_callback(Local(0)).ok());
  EXPECT_TRUE(iface_.security_callback(Local(geteuid())).ok());
  EXPECT_TRUE(iface_.security_callback(Local(4000)).ok());
  Status s = iface_.security_callback(Local(4242));
  EXPECT_EQ(s.code(), E_ACCESSDENIED);
  const std::string why =
      "only root, comsecd's own user and the uids given with --trust-uid may validate logons";
  const Guid& uuid = LogonServiceSyntax().uuid;
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.logon_service_refused", LogSeverity::kWarning,
                         "logon service: refused uid 4242 (pid 99): " + why)
                    .Interface(uuid, 1, 0)
                    .Opnum(1)
                    .Reason(why)
                    .Hresult(E_ACCESSDENIED)
                    .Extra("uid", "4242")
                    .Extra("pid", "99")});
  log_.Clear();
  rpc::CallContext tcp;  // no kernel-proven identity, even from loopback
  tcp.loopback = true;
  tcp.peer = "127.0.0.1:50000";
  tcp.interface = LogonServiceSyntax();
  EXPECT_EQ(iface_.security_callback(tcp).code(), E_ACCESSDENIED);
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.logon_service_refused", LogSeverity::kWarning,
                         "logon service: refused a TCP caller: " + why)
                    .Peer("127.0.0.1:50000")
                    .Interface(uuid, 1, 0)
                    .Opnum(0)
                    .Reason("a TCP caller has no kernel-proven uid")
                    .Hresult(E_ACCESSDENIED)});
}

TEST_F(LogonService, RefusalsTravelAsTheirHResultWithTheReason) {
  auto reply = Logon(EncodeNetworkLogonRequest(Request(u"mallory")));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto r = DecodeNetworkLogonReply(*reply);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED);
  EXPECT_EQ(r.status().message(), "comsecd: unknown user");
  // A well-formed NTLMv2 response computed from another password.
  NetworkLogonRequest wrong = Request(u"alice");
  const Challenge8 client_challenge{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<uint8_t> eol = {0, 0, 0, 0};
  wrong.nt_response = ComputeNtlmV2(NtOwfV2(NtHash(u"guess"), u"alice", u"SVC"),
                                    wrong.server_challenge, client_challenge,
                                    MakeNtlmV2Blob(FileTimeNow(), client_challenge, eol))
                          .nt_response;
  reply = Logon(EncodeNetworkLogonRequest(wrong));
  ASSERT_TRUE(reply.ok());
  r = DecodeNetworkLogonReply(*reply);
  EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED);
  EXPECT_NE(std::string(r.status().message()).find("wrong password"), std::string::npos);
}

TEST_F(LogonService, HostileRequestsAreBadStubData) {
  const std::vector<uint8_t> good = EncodeNetworkLogonRequest(Request(u"alice"));
  for (size_t cut : {size_t{0}, size_t{7}, size_t{20}, good.size() - 1}) {
    auto r = Logon(std::span<const uint8_t>(good.data(), cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA) << cut;
  }
  // An NT response larger than any real one.
  NetworkLogonRequest big = Request(u"alice");
  big.nt_response.assign(5000, 1);
  auto r = Logon(EncodeNetworkLogonRequest(big));
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  EXPECT_NE(std::string(r.status().message()).find("too long"), std::string::npos);
  // A user name longer than 256 characters.
  r = Logon(EncodeNetworkLogonRequest(Request(std::u16string(300, u'a'))));
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  // Trailing bytes past the stub.
  std::vector<uint8_t> trailing = good;
  trailing.insert(trailing.end(), 16, 0xee);
  EXPECT_EQ(Logon(trailing).status().code(), RPC_X_BAD_STUB_DATA);
}

TEST_F(LogonService, HostileRepliesAreRefusedNotTrusted) {
  // A reply claiming failure with a success code, and truncated replies.
  ndr::Encoder e;
  e.Bytes(std::vector<uint8_t>(16, 0));
  e.Pointer(true);
  e.CString("SVC");
  e.Pointer(true);
  e.CString("alice");
  e.U32(0);
  e.Pointer(true);
  e.Conformance(0);
  e.I32(0);
  e.Pointer(true);
  e.CString("");
  e.U32(1);  // S_FALSE
  auto r = DecodeNetworkLogonReply(e.bytes());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  const std::vector<uint8_t> bytes = e.bytes();
  for (size_t cut = 0; cut < bytes.size(); cut += 5) {
    EXPECT_FALSE(DecodeNetworkLogonReply(std::span<const uint8_t>(bytes.data(), cut)).ok());
  }
  // Success with no user SID: the SIDs must parse.
  std::vector<uint8_t> ok_without_sid = bytes;
  ok_without_sid[ok_without_sid.size() - 4] = 0;
  EXPECT_FALSE(DecodeNetworkLogonReply(ok_without_sid).ok());
}

// Issue 14: a mapped account's Unix identity travels from comsecd to the
// server (uid, then gids); an unmapped one has none.
TEST_F(LogonService, TheUnixIdentityOfAMappedAccountTravels) {
  auto reply = Logon(EncodeNetworkLogonRequest(Proven(u"bob")));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto r = DecodeNetworkLogonReply(*reply);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->account_name, "bob");
  EXPECT_EQ(r->group_sids, (std::vector<security::Sid>{security::Sid(5, {21, 7, 7, 7, 1002})}));
  ASSERT_TRUE(r->unix_identity.has_value());
  EXPECT_EQ(r->unix_identity->uid, 65534u);
  EXPECT_EQ(r->unix_identity->gids, (std::vector<uint32_t>{65534, 100}));
  reply = Logon(EncodeNetworkLogonRequest(Proven(u"alice")));
  ASSERT_TRUE(reply.ok());
  r = DecodeNetworkLogonReply(*reply);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->unix_identity.has_value());
}

// A reply mapping to uid 0, or a uid without a gid, is not believed.
TEST_F(LogonService, UnixIdentitiesInRepliesAreChecked) {
  auto reply_with = [](std::vector<uint32_t> ids, uint32_t claimed) {
    ndr::Encoder e;
    e.Bytes(std::vector<uint8_t>(16, 0));
    e.Pointer(true);
    e.CString("SVC");
    e.Pointer(true);
    e.CString("bob");
    ByteWriter sids;
    security::Sid(5, {21, 7, 7, 7, 1001}).EncodeTo(sids);
    e.U32(static_cast<uint32_t>(sids.size()));
    e.Pointer(true);
    e.Conformance(static_cast<uint32_t>(sids.size()));
    e.Bytes(sids.bytes());
    e.U32(claimed);
    e.Pointer(true);
    e.Conformance(static_cast<uint32_t>(ids.size()));
    for (uint32_t id : ids) e.U32(id);
    e.I32(0);
    e.Pointer(true);
    e.CString("");
    e.U32(0);
    return DecodeNetworkLogonReply(e.bytes());
  };
  auto ok = reply_with({7, 8, 9}, 3);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->unix_identity->uid, 7u);
  EXPECT_EQ(ok->unix_identity->gids, (std::vector<uint32_t>{8, 9}));
  EXPECT_TRUE(reply_with({}, 0).ok());
  for (auto [ids, claimed] : std::vector<std::pair<std::vector<uint32_t>, uint32_t>>{
           {{0, 0}, 2}, {{7}, 1}, {{7, 8}, 3}}) {
    auto r = reply_with(ids, claimed);
    ASSERT_FALSE(r.ok()) << ids.size();
    EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA) << r.status().ToString();
  }
}

}  // namespace
}  // namespace comsec::auth::ntlm
