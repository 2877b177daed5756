// The test package (test_package.h) driven by hand, as the runtime drives
// it: its four legs and who is done when, every refusal with its exact
// status, per-PDU protection at both levels in both directions, header
// signing honoured, and — with its signature size depending on the stub —
// the fragmenter keeping every fragment within max_frag while the
// receiver verifies and reassembles them.
#include "test_package.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "comsec/rpc/fragmenter.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/pdu_protection.h"
#include "package_test_support.h"

namespace comsec::rpc::testing {
namespace {

using security::AuthnLevel;

const security::Sid kAliceSid(5, {21, 7, 7, 7, 1001});

SharedSecretServerOptions ServerWith(std::string alice_secret) {
  SharedSecretServerOptions o;
  o.accounts["alice"] = SharedSecretAccount{std::move(alice_secret), kAliceSid};
  return o;
}

std::shared_ptr<const SharedSecretCredentials> Alice(std::string secret = "s3cret") {
  return std::make_shared<SharedSecretCredentials>("alice", std::move(secret));
}

struct Pair {
  std::unique_ptr<SecurityContext> client;
  std::unique_ptr<SecurityContext> server;
};

TestConnection At(AuthnLevel level) {
  TestConnection c;
  c.auth_level = level;
  c.peer = "192.0.2.1:5000";
  return c;
}

// Runs the four legs; fails the test if any leg does.
Pair Establish(SharedSecretPackage& client_pkg, SharedSecretPackage& server_pkg, AuthnLevel level) {
  Pair p;
  p.client = std::move(*StartClientContext(client_pkg, At(level)));
  p.server = std::move(*StartServerContext(server_pkg, At(level)));
  auto l1 = p.client->Update({});
  EXPECT_TRUE(l1.ok());
  auto l2 = p.server->Update(l1->output);
  EXPECT_TRUE(l2.ok()) << l2.status().ToString();
  auto l3 = p.client->Update(l2->output);
  EXPECT_TRUE(l3.ok()) << l3.status().ToString();
  auto l4 = p.server->Update(l3->output);
  EXPECT_TRUE(l4.ok()) << l4.status().ToString();
  auto end = p.client->Update(l4->output);
  EXPECT_TRUE(end.ok()) << end.status().ToString();
  return p;
}

TEST(TestPackage, FourLegsServerDoneAfterThirdClientAfterFourthWithoutOutput) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
  auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));

  auto l1 = client->Update({});  // bind
  ASSERT_TRUE(l1.ok());
  EXPECT_FALSE(l1->done);
  EXPECT_FALSE(l1->output.empty());
  auto l2 = server->Update(l1->output);  // bind_ack
  ASSERT_TRUE(l2.ok());
  EXPECT_FALSE(l2->done);
  auto l3 = client->Update(l2->output);  // alter_context: not done
  ASSERT_TRUE(l3.ok());
  EXPECT_FALSE(l3->done);
  EXPECT_FALSE(l3->output.empty());
  EXPECT_FALSE(client->IsComplete());
  EXPECT_EQ(client->features(), 0u);
  auto l4 = server->Update(l3->output);  // alter_context_resp
  ASSERT_TRUE(l4.ok());
  EXPECT_TRUE(l4->done);
  EXPECT_FALSE(l4->output.empty());
  EXPECT_TRUE(server->IsComplete());
  auto end = client->Update(l4->output);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->done);
  EXPECT_TRUE(end->output.empty());  // no auth3
  EXPECT_TRUE(client->IsComplete());

  EXPECT_TRUE(client->features() & kFeatureMutualAuth);
  EXPECT_TRUE(server->features() & kFeatureMutualAuth);
  EXPECT_EQ(server->PeerName(), "TESTREALM\\alice");
  EXPECT_EQ(client->PeerName(), "testserver");
  ASSERT_NE(server->PeerToken(), nullptr);
  EXPECT_EQ(server->PeerToken()->user(), kAliceSid);
  EXPECT_EQ(client->PeerToken(), nullptr);
  auto ck = client->SessionKey();
  auto sk = server->SessionKey();
  ASSERT_TRUE(ck.ok() && sk.ok());
  using Key16 = std::array<uint8_t, 16>;
  EXPECT_EQ(static_cast<const Key16&>(*ck), static_cast<const Key16&>(*sk));
  // A fifth leg is no leg.
  EXPECT_EQ(client->Update(l4->output).status().code(), SEC_E_INVALID_TOKEN);
}

TEST(TestPackage, ServerWithAnotherSecretFailsMutualAuthenticationInLegTwo) {
  SharedSecretPackage client_pkg(Alice("s3cret"));
  SharedSecretPackage server_pkg(ServerWith("not the secret"));
  auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktPrivacy)));
  auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktPrivacy)));
  auto l2 = server->Update(client->Update({})->output);
  ASSERT_TRUE(l2.ok());
  auto l3 = client->Update(l2->output);
  ASSERT_FALSE(l3.ok());
  EXPECT_EQ(l3.status().code(), SEC_E_MUTUAL_AUTH_FAILED) << l3.status().ToString();
  EXPECT_NE(l3.status().message().find("did not prove that it knows alice's secret"),
            std::string_view::npos)
      << l3.status().ToString();
  EXPECT_FALSE(client->IsComplete());
}

TEST(TestPackage, AlteredLegsAreRefusedWithTheirStatus) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  // The server's proof (leg 2's last byte).
  {
    auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
    auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l2 = *server->Update(client->Update({})->output);
    l2.output.back() ^= 1;
    EXPECT_EQ(client->Update(l2.output).status().code(), SEC_E_MUTUAL_AUTH_FAILED);
  }
  // The server's name, which its proof covers.
  {
    auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
    auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l2 = *server->Update(client->Update({})->output);
    l2.output[6 + 32 + 2] ^= 0x20;  // magic, leg, version, nonce, length: the name
    EXPECT_EQ(client->Update(l2.output).status().code(), SEC_E_MUTUAL_AUTH_FAILED);
  }
  // The client's proof (leg 3).
  {
    auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
    auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l3 = *client->Update(server->Update(client->Update({})->output)->output);
    l3.output.back() ^= 1;
    auto r = server->Update(l3.output);
    EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED) << r.status().ToString();
    EXPECT_FALSE(server->IsComplete());
  }
  // The server's key confirmation (leg 4).
  {
    auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
    auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l3 = *client->Update(server->Update(client->Update({})->output)->output);
    auto l4 = *server->Update(l3.output);
    l4.output[10] ^= 1;
    EXPECT_EQ(client->Update(l4.output).status().code(), SEC_E_MUTUAL_AUTH_FAILED);
    EXPECT_FALSE(client->IsComplete());
  }
  // Garbage, truncation and a leg out of order.
  {
    auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    EXPECT_EQ(server->Update(std::vector<uint8_t>{1, 2, 3}).status().code(),
              SEC_E_INVALID_TOKEN);
    auto client = std::move(*StartClientContext(client_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l1 = client->Update({})->output;
    auto server2 = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    EXPECT_EQ(server2->Update(std::span(l1).first(l1.size() - 1)).status().code(),
              SEC_E_INVALID_TOKEN);
    auto server3 = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto l2 = server3->Update(l1)->output;
    auto server4 = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
    auto wrong = server4->Update(l2);  // leg 2 where leg 1 belongs
    EXPECT_EQ(wrong.status().code(), SEC_E_INVALID_TOKEN);
    EXPECT_NE(wrong.status().message().find("message 2 arrived"), std::string_view::npos);
  }
}

TEST(TestPackage, UnknownUserWrongTargetAndUnsupportedFeatures) {
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  SharedSecretPackage bob_pkg(std::make_shared<SharedSecretCredentials>("bob", "x"));
  auto bob = std::move(*StartClientContext(bob_pkg, At(AuthnLevel::kPktIntegrity)));
  auto server = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
  EXPECT_EQ(server->Update(bob->Update({})->output).status().code(), SEC_E_LOGON_DENIED);

  SharedSecretPackage alice_pkg(Alice());
  StartParams p = ParamsFor(Role::kClient, At(AuthnLevel::kPktIntegrity));
  p.target_name = "elsewhere";
  auto client = std::move(*alice_pkg.Start(p));
  auto server2 = std::move(*StartServerContext(server_pkg, At(AuthnLevel::kPktIntegrity)));
  EXPECT_EQ(server2->Update(client->Update({})->output).status().code(),
            SEC_E_WRONG_PRINCIPAL);

  p.target_name = "";
  p.wanted = kFeatureDelegate;
  EXPECT_EQ(alice_pkg.Start(p).status().code(), SEC_E_UNSUPPORTED_FUNCTION);
  SharedSecretPackage no_credentials(std::shared_ptr<const SharedSecretCredentials>{});
  EXPECT_EQ(
      no_credentials.Start(ParamsFor(Role::kClient, At(AuthnLevel::kPktIntegrity))).status().code(),
      SEC_E_NO_CREDENTIALS);
  EXPECT_EQ(
      alice_pkg.Start(ParamsFor(Role::kServer, At(AuthnLevel::kPktIntegrity))).status().code(),
      SEC_E_UNSUPPORTED_FUNCTION);
}

TEST(TestPackage, SignatureSizeDependsOnTheStubWhenSealing) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  auto sealed = Establish(client_pkg, server_pkg, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(sealed.client->SignatureSize(0), 56u);
  EXPECT_EQ(sealed.client->SignatureSize(4), 52u);
  EXPECT_EQ(sealed.client->SignatureSize(8), 48u);
  EXPECT_EQ(sealed.client->SignatureSize(12), 44u);
  EXPECT_EQ(sealed.client->SignatureSize(16), 56u);
  EXPECT_EQ(sealed.server->SignatureSize(4280), 48u);
  auto signed_only = Establish(client_pkg, server_pkg, AuthnLevel::kPktIntegrity);
  for (size_t n : {0, 4, 8, 12, 16, 4280}) EXPECT_EQ(signed_only.client->SignatureSize(n), 40u);
}

// A request-shaped PDU: 24 bytes of header and body prefix, the stub, the
// sec_trailer and the signature.
struct TestPdu {
  std::vector<uint8_t> bytes;
  size_t stub_begin = 24, stub_end = 0;
  std::span<uint8_t> signature() {
    return std::span(bytes).subspan(stub_end + kSecTrailerSize);
  }
};

TestPdu MakePdu(const SecurityContext& c, std::vector<uint8_t> stub) {
  TestPdu p;
  p.bytes.resize(24);
  for (size_t i = 0; i < 24; ++i) p.bytes[i] = static_cast<uint8_t>(0xA0 + i);
  p.bytes.insert(p.bytes.end(), stub.begin(), stub.end());
  p.stub_end = p.bytes.size();
  for (int i = 0; i < 8; ++i) p.bytes.push_back(static_cast<uint8_t>(0x50 + i));
  p.bytes.resize(p.bytes.size() + c.SignatureSize(stub.size()));
  return p;
}

PduRegion RegionOf(TestPdu& p, AuthnLevel level, bool header_signing) {
  PduRegion r = Region(p.bytes, p.stub_begin, p.stub_end, level, p.signature());
  r.header_signing = header_signing;
  return r;
}

TEST(TestPackage, ProtectAndVerifyBothDirectionsAtBothLevels) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  for (AuthnLevel level : {AuthnLevel::kPkt, AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    auto pair = Establish(client_pkg, server_pkg, level);
    for (size_t n : {0, 4, 8, 12, 16, 20, 1000}) {
      std::vector<uint8_t> stub(n);
      for (size_t i = 0; i < n; ++i) stub[i] = static_cast<uint8_t>(i * 13 + 1);
      for (bool to_server : {true, false}) {
        SecurityContext& sender = to_server ? *pair.client : *pair.server;
        SecurityContext& receiver = to_server ? *pair.server : *pair.client;
        TestPdu p = MakePdu(sender, stub);
        ASSERT_TRUE(sender.Protect(RegionOf(p, level, true)).ok());
        const bool stub_visible =
            std::equal(stub.begin(), stub.end(), p.bytes.begin() + 24);
        EXPECT_EQ(stub_visible, level != AuthnLevel::kPktPrivacy || n == 0)
            << int(level) << " " << n;
        Status s = receiver.Verify(RegionOf(p, level, true));
        ASSERT_TRUE(s.ok()) << int(level) << " " << n << ": " << s.ToString();
        EXPECT_TRUE(std::equal(stub.begin(), stub.end(), p.bytes.begin() + 24));
      }
    }
  }
}

TEST(TestPackage, HeaderSigningIsHonoured) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    // With header signing, a changed header byte (say, the opnum) or
    // sec_trailer byte is caught.
    for (size_t at : {size_t{22}, size_t{24 + 8 + 2}}) {
      auto pair = Establish(client_pkg, server_pkg, level);
      TestPdu p = MakePdu(*pair.client, std::vector<uint8_t>(8, 7));
      ASSERT_TRUE(pair.client->Protect(RegionOf(p, level, true)).ok());
      p.bytes[at] ^= 1;
      EXPECT_EQ(pair.server->Verify(RegionOf(p, level, true)).code(), SEC_E_MESSAGE_ALTERED)
          << int(level) << " byte " << at;
    }
    // Without it only the stub is covered (the verification trailer
    // protects the header then): the same change passes, a stub change
    // does not.
    {
      auto pair = Establish(client_pkg, server_pkg, level);
      TestPdu p = MakePdu(*pair.client, std::vector<uint8_t>(8, 7));
      ASSERT_TRUE(pair.client->Protect(RegionOf(p, level, false)).ok());
      p.bytes[22] ^= 1;
      EXPECT_TRUE(pair.server->Verify(RegionOf(p, level, false)).ok());
      auto again = Establish(client_pkg, server_pkg, level);
      TestPdu r = MakePdu(*again.client, std::vector<uint8_t>(8, 7));
      ASSERT_TRUE(again.client->Protect(RegionOf(r, level, false)).ok());
      r.bytes[25] ^= 1;
      EXPECT_EQ(again.server->Verify(RegionOf(r, level, false)).code(), SEC_E_MESSAGE_ALTERED);
    }
    // A receiver that negotiated header signing refuses a PDU signed
    // without it (and the reverse): no silent downgrade.
    {
      auto pair = Establish(client_pkg, server_pkg, level);
      TestPdu p = MakePdu(*pair.client, std::vector<uint8_t>(8, 7));
      ASSERT_TRUE(pair.client->Protect(RegionOf(p, level, false)).ok());
      EXPECT_EQ(pair.server->Verify(RegionOf(p, level, true)).code(), SEC_E_MESSAGE_ALTERED);
    }
  }
}

TEST(TestPackage, ReplayedAndReorderedPdusAreOutOfSequence) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    auto pair = Establish(client_pkg, server_pkg, level);
    TestPdu first = MakePdu(*pair.client, std::vector<uint8_t>(12, 1));
    ASSERT_TRUE(pair.client->Protect(RegionOf(first, level, true)).ok());
    TestPdu second = MakePdu(*pair.client, std::vector<uint8_t>(12, 2));
    ASSERT_TRUE(pair.client->Protect(RegionOf(second, level, true)).ok());
    TestPdu second_copy = second;
    EXPECT_EQ(pair.server->Verify(RegionOf(second, level, true)).code(), SEC_E_OUT_OF_SEQUENCE);
    TestPdu first_copy = first;
    ASSERT_TRUE(pair.server->Verify(RegionOf(first, level, true)).ok());
    EXPECT_EQ(pair.server->Verify(RegionOf(first_copy, level, true)).code(),
              SEC_E_OUT_OF_SEQUENCE);
    EXPECT_TRUE(pair.server->Verify(RegionOf(second_copy, level, true)).ok());
    // A server signature is no client signature (keys per direction).
    TestPdu mine = MakePdu(*pair.server, std::vector<uint8_t>(12, 3));
    ASSERT_TRUE(pair.server->Protect(RegionOf(mine, level, true)).ok());
    EXPECT_EQ(pair.server->Verify(RegionOf(mine, level, true)).code(), SEC_E_MESSAGE_ALTERED);
  }
}

// The fragmenter sizes fragments with SignatureSize, which here changes
// with every stub length and is not monotonic in it: for stubs around one
// and two fragments, with and without an object UUID, at the sizes peers
// negotiate and at sizes that are no multiple of 8 or 16 (which a foreign
// peer may announce), every fragment fits max_frag, verifies at the
// receiver and reassembles. Found by this package: the fragmenter sized
// every piece with SignatureSize(max_frag), and max_frag 2052 sent
// 2056-byte fragments (fixed in fragmenter.cc: each piece is fitted).
TEST(TestPackage, FragmentsFitMaxFragAndVerifyWithDataDependentSignatures) {
  SharedSecretPackage client_pkg(Alice());
  SharedSecretPackage server_pkg(ServerWith("s3cret"));
  for (uint16_t max_frag : {2048, 2050, 2052, 4280, 4283, 5840}) {
    for (bool object : {false, true}) {
      auto pair = Establish(client_pkg, server_pkg, AuthnLevel::kPktPrivacy);
      PduAuth sender{pair.client.get(), kTestAuthType, AuthnLevel::kPktPrivacy, 7, true};
      PduAuth receiver{pair.server.get(), kTestAuthType, AuthnLevel::kPktPrivacy, 7, true};
      std::vector<size_t> sizes;
      for (size_t n = 0; n < 24; ++n) sizes.push_back(n);
      for (size_t n = max_frag - 140; n < max_frag + 20u; ++n) sizes.push_back(n);
      for (size_t n = 2u * max_frag - 280; n < 2u * max_frag; n += 3) sizes.push_back(n);
      for (size_t n : sizes) {
        std::vector<uint8_t> stub(n);
        for (size_t i = 0; i < n; ++i) stub[i] = static_cast<uint8_t>(i ^ n);
        FragmentPlan plan;
        plan.call_id = 1;
        plan.max_frag = max_frag;
        plan.auth = &sender;
        if (object) plan.object = Guid::Parse("01234567-89ab-cdef-0123-456789abcdef").value();
        std::vector<uint8_t> reassembled;
        Status s = Fragment(plan, stub, [&](std::vector<uint8_t> f) -> Status {
          EXPECT_LE(f.size(), max_frag) << "stub " << n << " object " << object;
          COMSEC_ASSIGN_OR_RETURN(Pdu pdu, DecodePdu(f));
          COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> piece, VerifyProtected(f, pdu, receiver));
          reassembled.insert(reassembled.end(), piece.begin(), piece.end());
          return Status::Ok();
        });
        ASSERT_TRUE(s.ok()) << max_frag << " stub " << n << ": " << s.ToString();
        ASSERT_EQ(reassembled, stub) << max_frag << " stub " << n;
      }
    }
  }
}

}  // namespace
}  // namespace comsec::rpc::testing
