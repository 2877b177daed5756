// gss-ntlmssp (Debian's gss-ntlmssp, loaded by MIT's mechglue through
// GSS_MECH_CONFIG) inside MIT's SPNEGO as an independent acceptor for our
// Negotiate client choosing our NTLM: the four SPNEGO legs (NEGOTIATE,
// CHALLENGE, AUTHENTICATE with our mechListMIC, accept-completed with
// MIT's), the name gss-ntlmssp authenticated, and detached MICs both ways
// afterwards, which only line up if both sides restored the RC4 handle
// after the mechListMIC as [MS-SPNG] 3.3.5.1 says. CONNECT level only:
// gss-ntlmssp cannot protect DCE/RPC PDUs (no IOV functions;
// reference/kerberos/NOTES.md §5). A wrong password and a tampered
// mechListMIC are refused by it. Skips when gss-ntlmssp is not installed
// (scripts/install-deps.sh installs it).
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../rpc/package_test_support.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/negotiate/spnego_token.h"
#include "comsec/auth/ntlm/ntlm_package.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec {
namespace {

constexpr const char* kMechLibrary = "/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so";

gss_OID_desc kSpnego{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};
gss_OID_desc kNtlm{10, const_cast<char*>("\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a")};

// The mechglue's configuration and gss-ntlmssp's password file, written
// before the first GSS call (MIT reads GSS_MECH_CONFIG once, at its
// initialisation).
class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / "comsec-gssntlm-XXXXXX";
    if (mkdtemp(dir_.data()) == nullptr) return;
    std::ofstream(dir_ + "/mech") << "gssntlmssp_v1 1.3.6.1.4.1.311.2.2.10 " << kMechLibrary
                                  << "\n";
    std::ofstream(dir_ + "/users") << "COMSEC:alice:Ntlm#Pass1\n";
    setenv("GSS_MECH_CONFIG", (dir_ + "/mech").c_str(), 1);
    setenv("NTLM_USER_FILE", (dir_ + "/users").c_str(), 1);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

 private:
  std::string dir_;
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

// MIT's SPNEGO acceptor limited to NTLM.
class Acceptor {
 public:
  Acceptor() {
    OM_uint32 minor = 0;
    gss_OID_set_desc spnego{1, &kSpnego};
    major_ = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &spnego, GSS_C_ACCEPT,
                              &cred_, nullptr, nullptr);
    if (major_ != GSS_S_COMPLETE) return;
    gss_OID_set_desc ntlm{1, &kNtlm};
    major_ = gss_set_neg_mechs(&minor, cred_, &ntlm);
  }
  ~Acceptor() {
    OM_uint32 minor = 0;
    if (ctx_ != GSS_C_NO_CONTEXT) gss_delete_sec_context(&minor, &ctx_, GSS_C_NO_BUFFER);
    if (cred_ != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred_);
    if (name_ != GSS_C_NO_NAME) gss_release_name(&minor, &name_);
  }
  bool ready() const { return major_ == GSS_S_COMPLETE; }

  // One leg: the token back, and the major status.
  OM_uint32 Accept(const std::vector<uint8_t>& in, std::vector<uint8_t>* out) {
    OM_uint32 minor = 0, flags = 0;
    gss_buffer_desc input{in.size(), const_cast<uint8_t*>(in.data())};
    gss_buffer_desc output{0, nullptr};
    gss_OID mech = GSS_C_NO_OID;
    if (name_ != GSS_C_NO_NAME) gss_release_name(&minor, &name_);
    OM_uint32 major = gss_accept_sec_context(&minor, &ctx_, cred_, &input,
                                             GSS_C_NO_CHANNEL_BINDINGS, &name_, &mech, &output,
                                             &flags, nullptr, nullptr);
    const auto* bytes = static_cast<const uint8_t*>(output.value);
    out->assign(bytes, bytes + output.length);
    gss_release_buffer(&minor, &output);
    if (major == GSS_S_COMPLETE && mech != GSS_C_NO_OID) {
      mech_.assign(static_cast<const uint8_t*>(mech->elements),
                   static_cast<const uint8_t*>(mech->elements) + mech->length);
    }
    return major;
  }

  std::string Name() const {
    OM_uint32 minor = 0;
    gss_buffer_desc text{0, nullptr};
    if (gss_display_name(&minor, name_, &text, nullptr) != GSS_S_COMPLETE) return "";
    std::string s(static_cast<const char*>(text.value), text.length);
    // gss-ntlmssp counts the name's terminating NUL in its length.
    while (!s.empty() && s.back() == '\0') s.pop_back();
    gss_release_buffer(&minor, &text);
    return s;
  }
  const std::vector<uint8_t>& mech() const { return mech_; }
  gss_ctx_id_t context() const { return ctx_; }

 private:
  OM_uint32 major_ = GSS_S_FAILURE;
  gss_cred_id_t cred_ = GSS_C_NO_CREDENTIAL;
  gss_ctx_id_t ctx_ = GSS_C_NO_CONTEXT;
  gss_name_t name_ = GSS_C_NO_NAME;
  std::vector<uint8_t> mech_;
};

#define REQUIRE_GSS_NTLMSSP(acceptor)                                                       \
  do {                                                                                      \
    if (access(kMechLibrary, R_OK) != 0)                                                    \
      GTEST_SKIP() << kMechLibrary << " missing; scripts/install-deps.sh installs gss-ntlmssp"; \
    ASSERT_TRUE((acceptor).ready()) << "MIT could not load gss-ntlmssp as an acceptor";    \
  } while (0)

struct Client {
  explicit Client(const char* password) : ntlm(Credentials(password)) {
    auth::negotiate::NegotiateOptions o;
    o.ntlm = &ntlm;
    negotiate = std::make_unique<auth::negotiate::NegotiatePackage>(o);
    TestConnection info;
    info.auth_level = security::AuthnLevel::kConnect;
    rpc::StartParams p = ParamsFor(rpc::Role::kClient, info);
    p.target_name = "host/localhost";
    context = std::move(*negotiate->Start(p));
  }
  static auth::ntlm::ClientCredentials Credentials(const char* password) {
    auth::ntlm::ClientCredentials c;
    c.user = "alice";
    c.domain = "COMSEC";
    c.password = std::string(password);
    return c;
  }
  auth::ntlm::NtlmPackage ntlm;
  std::unique_ptr<auth::negotiate::NegotiatePackage> negotiate;
  std::unique_ptr<rpc::SecurityContext> context;
};

TEST(GssNtlmsspAcceptor, AcceptsOurNtlmThroughSpnegoAndMicsLineUp) {
  Acceptor acceptor;
  REQUIRE_GSS_NTLMSSP(acceptor);
  Client client("Ntlm#Pass1");
  std::vector<uint8_t> t1 = *Leg(*client.context, {}), a1, a2;
  ASSERT_EQ(acceptor.Accept(t1, &a1), GSS_S_CONTINUE_NEEDED);
  auto choice = auth::negotiate::DecodeNegTokenResp(a1);
  ASSERT_TRUE(choice.ok()) << choice.status().ToString();
  EXPECT_EQ(*choice->supported_mech, auth::negotiate::NtlmOid());
  auto t2 = client.context->Update(a1);
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_FALSE(t2->done);
  OM_uint32 major = acceptor.Accept(t2->output, &a2);
  ASSERT_EQ(major, GSS_S_COMPLETE) << std::hex << major;
  auto last = auth::negotiate::DecodeNegTokenResp(a2);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last->neg_state, auth::negotiate::NegState::kAcceptCompleted);
  ASSERT_TRUE(last->mech_list_mic) << "MIT answers our mechListMIC with its own";
  auto done = client.context->Update(a2);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(client.context->IsComplete());
  EXPECT_EQ(acceptor.mech(), auth::negotiate::NtlmOid());
  EXPECT_EQ(acceptor.Name(), "COMSEC\\alice");

  // After the handshake, each side's MIC verifies on the other: the same
  // sequence numbers and RC4 states on both sides.
  const std::string text = "after the mechListMIC";
  std::vector<uint8_t> message(text.begin(), text.end());
  for (int round = 0; round < 3; ++round) {
    OM_uint32 minor = 0;
    gss_buffer_desc in{message.size(), message.data()};
    gss_buffer_desc mic{0, nullptr};
    ASSERT_EQ(gss_get_mic(&minor, acceptor.context(), GSS_C_QOP_DEFAULT, &in, &mic), GSS_S_COMPLETE);
    std::vector<uint8_t> theirs(static_cast<uint8_t*>(mic.value),
                                static_cast<uint8_t*>(mic.value) + mic.length);
    gss_release_buffer(&minor, &mic);
    Status ours_ok = client.context->VerifyMic(message, theirs);
    EXPECT_TRUE(ours_ok.ok()) << round << ": " << ours_ok.ToString();
    auto ours = client.context->MakeMic(message);
    ASSERT_TRUE(ours.ok());
    gss_buffer_desc token{ours->size(), ours->data()};
    EXPECT_EQ(gss_verify_mic(&minor, acceptor.context(), &in, &token, nullptr), GSS_S_COMPLETE)
        << round;
  }
}

TEST(GssNtlmsspAcceptor, RefusesAWrongPassword) {
  Acceptor acceptor;
  REQUIRE_GSS_NTLMSSP(acceptor);
  Client client("wrong");
  std::vector<uint8_t> t1 = *Leg(*client.context, {}), a1, a2;
  ASSERT_EQ(acceptor.Accept(t1, &a1), GSS_S_CONTINUE_NEEDED);
  auto t2 = client.context->Update(a1);
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(GSS_ERROR(acceptor.Accept(t2->output, &a2)));
}

TEST(GssNtlmsspAcceptor, RefusesATamperedMechListMic) {
  Acceptor acceptor;
  REQUIRE_GSS_NTLMSSP(acceptor);
  Client client("Ntlm#Pass1");
  std::vector<uint8_t> t1 = *Leg(*client.context, {}), a1, a2;
  ASSERT_EQ(acceptor.Accept(t1, &a1), GSS_S_CONTINUE_NEEDED);
  auto t2 = client.context->Update(a1);
  ASSERT_TRUE(t2.ok());
  auto resp = *auth::negotiate::DecodeNegTokenResp(t2->output);
  ASSERT_TRUE(resp.mech_list_mic);
  resp.mech_list_mic->at(6) ^= 0x01;  // inside the checksum
  EXPECT_TRUE(GSS_ERROR(acceptor.Accept(auth::negotiate::EncodeNegTokenResp(resp), &a2)));
}

}  // namespace
}  // namespace comsec
