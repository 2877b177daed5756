// Cloaking across the machine boundary with Kerberos (com/cloaking.h;
// rule R109, R110; issue 14's must-show "the same over TCP with Kerberos
// at RPC_C_IMP_LEVEL_DELEGATE against the test KDC").
//
// Three cloaking_peer processes against a real MIT KDC started by the test
// (tests/support/krb_test_realm.h): A calls as alice@REALM (the realm's
// ccache); B serves as RPCSS/localhost and calls C as that SPN (keys from
// the service keytab); C serves as host/localhost. B and C listen on TCP
// only, so every hop crosses what cloaking treats as a machine boundary
// (no ncalrpc, no Unix uid to carry). A calls B's Relay with C's proxy; B
// impersonates A and calls C; C reports the principal its call context
// names. alice has no Unix account: B's impersonation is a token only, and
// the identity can travel only in the credentials alice delegated.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../support/krb_test_realm.h"
#include "cloaking_peers.h"
#include "comsec/security/unix_identity.h"

namespace comsec::com {
namespace {

using testing::Call;
using testing::Server;

constexpr uint32_t kStatic = 0x20;   // EOAC_STATIC_CLOAKING
constexpr uint32_t kDynamic = 0x40;  // EOAC_DYNAMIC_CLOAKING

class CloakingKerberos : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = comsec::testing::KrbTestRealm::MissingTools();
    if (!missing.empty()) GTEST_SKIP() << "MIT KDC missing (" << missing << ")";
    realm_ = comsec::testing::SharedRealm();
    ASSERT_TRUE(realm_->up()) << "the test KDC did not start";
    auto me = security::LookupUnixUser(::geteuid());
    ASSERT_TRUE(me.ok());
    user_ = me->user_name;
    keytab_ = realm_->dir() + "/service.keytab";
  }
  void TearDown() override {
    if (b_) {
      EXPECT_EQ(b_->peer.Wait(), 0) << b_->peer.Stderr();
    }
    if (c_) {
      EXPECT_EQ(c_->peer.Wait(), 0) << c_->peer.Stderr();
    }
  }

  void Start(uint32_t b_capabilities) {
    b_ = std::make_unique<Server>(
        user_.c_str(), b_capabilities,
        std::vector<std::string>{"--krb-spn", "RPCSS/localhost", "--krb-keytab",
                                 keytab_});
    c_ = std::make_unique<Server>(
        user_.c_str(), 0,
        std::vector<std::string>{"--krb-spn", "host/localhost", "--krb-keytab",
                                 keytab_});
    ASSERT_FALSE(b_->objref.empty()) << b_->peer.Stderr();
    ASSERT_FALSE(c_->objref.empty()) << c_->peer.Stderr();
  }

  // A's call, granting `imp_level` (RPC_C_IMP_LEVEL_*).
  std::string A(int imp_level, std::vector<std::string> args) {
    return Call({"--krb-client", "--imp-level", std::to_string(imp_level)},
                user_.c_str(), std::move(args));
  }
  std::string Relay(int imp_level) {
    return A(imp_level, {"relay", b_->objref, c_->objref});
  }

  // The relay line when C saw `seen`: B's thread never switches its uid
  // (alice has no Unix account).
  std::string RelayLine(const std::string& seen,
                        const char* hr = "0x00000000") const {
    const std::string uid = std::to_string(::geteuid());
    return "seen=" + seen + " uid_while=" + uid + " uid_after=" + uid +
           " hr=" + hr;
  }
  std::string Alice() const { return "alice@" + realm_->realm(); }
  std::string B() const { return "RPCSS/localhost@" + realm_->realm(); }

  static size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos;
         at = text.find(what, at + 1))
      ++n;
    return n;
  }

  comsec::testing::KrbTestRealm* realm_ = nullptr;
  std::string user_;
  std::string keytab_;
  std::unique_ptr<Server> b_, c_;
};

// R109 third point, R110 third point: A grants DELEGATE, the KDC trusts B
// for delegation, B cloaks dynamically: its call to C goes over an
// association of its own authenticated with alice's delegated TGT, and C
// sees alice, not B.
TEST_F(CloakingKerberos, R109_DelegateAndDynamicCloakingCSeesA) {
  Start(kDynamic);
  EXPECT_EQ(Relay(4), RelayLine(Alice()));
  const std::string log = b_->peer.Stderr();
  EXPECT_EQ(Count(log, "com.cloaked_association"), 1u) << log;
  EXPECT_NE(log.find(Alice()), std::string::npos) << log;
  // Again (C's proxy, unmarshaled anew by B, gets a new OXID entry).
  EXPECT_EQ(Relay(4), RelayLine(Alice()));
}

// R109 second point: A grants IMPERSONATE only, so B holds no credentials
// of alice's; the cloaked call to C (another machine) fails with
// SEC_E_NO_CREDENTIALS and one com.cloaking_refused saying alice did not
// grant delegation, and is never made as B. B still serves, and calls C
// as itself when not impersonating (R108).
TEST_F(CloakingKerberos, R109_ImpersonateOnlyCloakedCallAcrossMachinesFails) {
  Start(kDynamic);
  EXPECT_EQ(Relay(3), RelayLine("", "0x8009030e"));
  const std::string log = b_->peer.Stderr();
  EXPECT_EQ(Count(log, "com.cloaking_refused"), 1u) << log;
  EXPECT_NE(log.find("kerberos_not_delegated"), std::string::npos) << log;
  EXPECT_NE(log.find("did not grant delegation"), std::string::npos) << log;
  EXPECT_NE(log.find(Alice()), std::string::npos) << log;
  EXPECT_EQ(Count(log, "com.cloaked_association"), 0u) << log;
  EXPECT_EQ(A(3, {"keep", b_->objref, c_->objref}), "hr=0x00000000");
  EXPECT_EQ(A(3, {"relaykept", b_->objref, "0"}),
            "seen=" + B() + " hr=0x00000000");
  // The same B cloaks a caller that delegates.
  EXPECT_EQ(Relay(4), RelayLine(Alice()));
}

// R109 first point: A grants IDENTIFY (GSS_C_IDENTIFY_FLAG), so B may
// identify alice but not act as her: refused with
// ERROR_BAD_IMPERSONATION_LEVEL, whatever the transport.
TEST_F(CloakingKerberos, R109_IdentifyCannotBeCloaked) {
  Start(kDynamic);
  EXPECT_EQ(Relay(2), RelayLine("", "0x80070542"));
  const std::string log = b_->peer.Stderr();
  EXPECT_EQ(Count(log, "com.cloaking_refused"), 1u) << log;
  EXPECT_NE(log.find("identify_only"), std::string::npos) << log;
  EXPECT_EQ(Relay(4), RelayLine(Alice()));  // B still serves, and cloaks
}

// R109: a client asking for DELEGATE of a server the KDC does not trust
// for delegation (ok-as-delegate unset) forwards nothing, as Windows's
// does; B then has nothing to cloak with across machines: the same
// refusal as IMPERSONATE's.
TEST_F(CloakingKerberos, R109_DelegateToAServerTheKdcDoesNotTrustFails) {
  Start(kDynamic);
  // The KDC stops trusting B for delegation, until the test ends.
  struct OkAsDelegate {
    static int Set(bool on) {
      const std::string command =
          std::string("kadmin.local -q 'modprinc ") + (on ? "+" : "-") +
          "ok_as_delegate RPCSS/localhost' >/dev/null 2>&1";
      return std::system(command.c_str());
    }
    ~OkAsDelegate() { EXPECT_EQ(Set(true), 0); }
  } restore;
  ASSERT_EQ(OkAsDelegate::Set(false), 0);
  // A fresh ccache: the flag is copied into service tickets when issued.
  const std::string ccache = realm_->dir() + "/untrusted-b.ccache";
  const std::string kinit = "kinit -f -k -t " + realm_->dir() +
                            "/user.keytab -c FILE:" + ccache +
                            " alice >/dev/null 2>&1";
  ASSERT_EQ(std::system(kinit.c_str()), 0);
  const std::string saved = getenv("KRB5CCNAME");
  setenv("KRB5CCNAME", ("FILE:" + ccache).c_str(), 1);
  const std::string line = Relay(4);
  setenv("KRB5CCNAME", saved.c_str(), 1);
  EXPECT_EQ(line, RelayLine("", "0x8009030e"));
  EXPECT_NE(b_->peer.Stderr().find("kerberos_not_delegated"), std::string::npos)
      << b_->peer.Stderr();
}

// R104, R109 last point, R110 first point: without cloaking C sees B's own
// service principal, whatever A granted.
TEST_F(CloakingKerberos, R109_WithoutCloakingCSeesB) {
  Start(0);
  EXPECT_EQ(Relay(4), RelayLine(B()));
  EXPECT_EQ(Relay(3), RelayLine(B()));
  EXPECT_EQ(Count(b_->peer.Stderr(), "com.cloaked_association"), 0u);
}

// R106, R110 second point, across machines: with static cloaking the
// identity of the kept proxy's first call (alice, by her delegated TGT)
// stays, even when B no longer impersonates.
TEST_F(CloakingKerberos, R106_StaticCloakingKeepsTheDelegatedIdentity) {
  Start(kStatic);
  EXPECT_EQ(A(4, {"keep", b_->objref, c_->objref}), "hr=0x00000000");
  EXPECT_EQ(A(4, {"relaykept", b_->objref, "1"}),
            "seen=" + Alice() + " hr=0x00000000");
  EXPECT_EQ(A(3, {"relaykept", b_->objref, "0"}),
            "seen=" + Alice() + " hr=0x00000000");
}

// R107, R108 across machines: on a kept proxy, dynamic cloaking follows
// the thread on each call; alice's later calls (with credentials she
// delegated anew) reuse her association.
TEST_F(CloakingKerberos, R107_DynamicCloakingFollowsEachCall) {
  Start(kDynamic);
  EXPECT_EQ(A(4, {"keep", b_->objref, c_->objref}), "hr=0x00000000");
  EXPECT_EQ(A(4, {"relaykept", b_->objref, "1"}),
            "seen=" + Alice() + " hr=0x00000000");
  EXPECT_EQ(A(4, {"relaykept", b_->objref, "0"}),
            "seen=" + B() + " hr=0x00000000");
  EXPECT_EQ(A(4, {"relaykept", b_->objref, "1"}),
            "seen=" + Alice() + " hr=0x00000000");
  EXPECT_EQ(Count(b_->peer.Stderr(), "com.cloaked_association"), 1u)
      << b_->peer.Stderr();
  // At IMPERSONATE, the kept proxy refuses rather than reusing alice's
  // association: the thread's caller delegated nothing this time.
  EXPECT_EQ(A(3, {"relaykept", b_->objref, "1"}), "seen= hr=0x8009030e");
}

}  // namespace
}  // namespace comsec::com
