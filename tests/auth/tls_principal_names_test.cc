// Schannel principal names of real certificates (auth/tls/principal_names.h,
// rule R52): msstd and fullsic forms, RFC 1779 quoting, issuer chains, and
// the form checks SetBlanket and the package use.
#include "comsec/auth/tls/principal_names.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "tls_test_certs.h"

namespace comsec::auth::tls {
namespace {

class PrincipalNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/comsec-tlsnames-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    root_ = tls_test::Issue(dir_, "root", "Root CA", nullptr, true);
    sub_ = tls_test::Issue(dir_, "sub", "Sub CA", &root_, true);
  }
  void TearDown() override {
    tls_test::Free(root_);
    tls_test::Free(sub_);
    std::filesystem::remove_all(dir_);
  }
  // A stack of the given certificates (not owning them).
  struct Chain {
    STACK_OF(X509)* s = sk_X509_new_null();
    ~Chain() { sk_X509_free(s); }
  };

  std::string dir_;
  tls_test::Issued root_, sub_;
};

TEST_F(PrincipalNamesTest, R52_MsstdIsTheCommonNameWithoutAnEmail) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "leaf", "server.example.test", &root_, false,
                                          "DNS:server.example.test");
  auto names = RenderSchannelPrincipalNames(leaf.certificate, nullptr);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(names->msstd, "msstd:server.example.test");
  // Root issued the leaf directly: the root's name, then the leaf's.
  EXPECT_EQ(names->fullsic,
            "fullsic:\\<\\CN=Root CA, O=comsec test\\CN=server.example.test, O=comsec test>");
  EXPECT_TRUE(IsFullsicName(names->fullsic));
  EXPECT_TRUE(IsMsstdName(names->msstd));
  tls_test::Free(leaf);
}

TEST_F(PrincipalNamesTest, R52_MsstdPrefersAnEmailNameWithAnAt) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "mail", "alice", &root_, false,
                                          "email:alice@example.test");
  EXPECT_EQ(*MsstdPrincipalName(leaf.certificate), "msstd:alice@example.test");
  tls_test::Free(leaf);
}

TEST_F(PrincipalNamesTest, R52_MsstdDoublesInternalBackslashes) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "bs", "EXAMPLE\\svc", &root_, false);
  EXPECT_EQ(*MsstdPrincipalName(leaf.certificate), "msstd:EXAMPLE\\\\svc");
  // In fullsic the value is quoted (RFC 1779) and its backslash escaped, so
  // that the separators stay the only unquoted backslashes.
  const std::string fullsic = FullsicPrincipalName(leaf.certificate, nullptr);
  EXPECT_EQ(fullsic,
            "fullsic:\\<\\CN=Root CA, O=comsec test\\CN=\"EXAMPLE\\\\svc\", O=comsec test>");
  EXPECT_TRUE(IsFullsicName(fullsic));
  tls_test::Free(leaf);
}

TEST_F(PrincipalNamesTest, R52_Rfc1779QuotesSpecialValues) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "q", "Doe, John <jd>", &root_, false);
  EXPECT_EQ(Rfc1779Name(X509_get_subject_name(leaf.certificate)),
            "CN=\"Doe, John <jd>\", O=comsec test");
  EXPECT_TRUE(IsFullsicName(FullsicPrincipalName(leaf.certificate, nullptr)));
  tls_test::Free(leaf);
}

TEST_F(PrincipalNamesTest, R52_FullsicNamesTheWholeIssuerChainWhateverTheChainHolds) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "deep", "srv", &sub_, false);
  const std::string expected =
      "fullsic:\\<\\CN=Root CA, O=comsec test\\CN=Sub CA, O=comsec test\\CN=srv, O=comsec test>";
  // A verified chain: leaf, sub, root (self-signed, so nothing above it).
  {
    Chain c;
    sk_X509_push(c.s, leaf.certificate);
    sk_X509_push(c.s, sub_.certificate);
    sk_X509_push(c.s, root_.certificate);
    EXPECT_EQ(FullsicPrincipalName(leaf.certificate, c.s), expected);
  }
  // A certificate file's chain without the root, in any order.
  {
    Chain c;
    sk_X509_push(c.s, sub_.certificate);
    EXPECT_EQ(FullsicPrincipalName(leaf.certificate, c.s), expected);
  }
  // Without the intermediate only the direct issuer can be named.
  EXPECT_EQ(FullsicPrincipalName(leaf.certificate, nullptr),
            "fullsic:\\<\\CN=Sub CA, O=comsec test\\CN=srv, O=comsec test>");
  // A self-signed certificate is its own authority: one name.
  EXPECT_EQ(FullsicPrincipalName(root_.certificate, nullptr),
            "fullsic:\\<\\CN=Root CA, O=comsec test>");
  tls_test::Free(leaf);
}

TEST_F(PrincipalNamesTest, R52_ACertificateWithoutCommonNameOrEmailHasNoMsstdName) {
  tls_test::Issued leaf = tls_test::Issue(dir_, "nocn", "gone", &root_, false);
  X509_NAME* subject = X509_get_subject_name(leaf.certificate);
  const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  ASSERT_GE(cn, 0);
  X509_NAME_ENTRY_free(X509_NAME_delete_entry(subject, cn));
  auto msstd = MsstdPrincipalName(leaf.certificate);
  EXPECT_EQ(msstd.status().code(), RPC_E_INVALID_STD_NAME);
  EXPECT_EQ(RenderSchannelPrincipalNames(leaf.certificate, nullptr).status().code(),
            RPC_E_INVALID_STD_NAME);
  // The fullsic form still exists.
  EXPECT_EQ(FullsicPrincipalName(leaf.certificate, nullptr),
            "fullsic:\\<\\CN=Root CA, O=comsec test\\O=comsec test>");
  tls_test::Free(leaf);
}

TEST(PrincipalNameForms, R52_FullsicAndMsstdForms) {
  EXPECT_TRUE(IsFullsicName("fullsic:\\<\\CN=a>"));
  EXPECT_TRUE(IsFullsicName("FULLSIC:\\<\\CN=a\\CN=b, O=c>"));
  EXPECT_TRUE(IsFullsicName("fullsic:\\<\\CN=\"x\\\\y>z\"\\CN=b>"));
  for (const char* bad : {"fullsic:", "fullsic:\\<>", "fullsic:\\<\\>", "fullsic:<\\CN=a>",
                          "fullsic:\\<CN=a>", "fullsic:\\<\\CN=a", "fullsic:\\<\\CN=a>x",
                          "fullsic:\\<\\CN=a\\\\CN=b>", "fullsic:\\<\\CN=a\\>",
                          "fullsic:\\<\\CN=\"a>", "fullsic:\\<\\CN=\"a\\", "msstd:a",
                          "localhost", ""}) {
    EXPECT_FALSE(IsFullsicName(bad)) << bad;
  }
  EXPECT_TRUE(IsMsstdName("msstd:a"));
  EXPECT_TRUE(IsMsstdName("MSSTD:a@b"));
  EXPECT_FALSE(IsMsstdName("msstd:"));
  EXPECT_FALSE(IsMsstdName("fullsic:\\<\\CN=a>"));
}

}  // namespace
}  // namespace comsec::auth::tls
