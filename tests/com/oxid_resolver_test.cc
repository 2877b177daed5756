// The OXID resolver's tables (com/oxid_resolver.h) with an injected
// clock: identifiers, ownership, expiry (conformance cases 42, 43), ping
// sets and their statuses (case 44), bounds, and DUALSTRINGARRAY coding.
#include "comsec/com/oxid_resolver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "../base/captured_log.h"

namespace comsec::com {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr OxidOwner kOwner{1000, 4242};
constexpr OxidOwner kOtherPid{1000, 4243};
constexpr OxidOwner kOtherUid{1001, 4242};

OxidRegistration Registration() {
  OxidRegistration r;
  r.bindings.strings = {{kTowerIdTcp, u"127.0.0.1[13540]"}, {kTowerIdNcalrpc, u"[/run/x]"}};
  r.bindings.security = {{kAuthnNtlm, kAuthzNone, u""}};
  r.ipid_rem_unknown = *Guid::Parse("00001234-0001-0002-0304-050607080910");
  r.authn_hint = 2;
  return r;
}

// A resolver on a clock the test moves.
class Resolver : public ::testing::Test {
 protected:
  OxidResolverOptions Options(milliseconds period = seconds(1)) {
    OxidResolverOptions o;
    o.ping_period = period;
    o.clock = [this] { return now_; };
    o.logger = log_.logger();
    return o;
  }
  void Advance(std::chrono::steady_clock::duration d) { now_ += d; }

  std::chrono::steady_clock::time_point now_{seconds(1000)};
  CapturedLog log_;
};

TEST_F(Resolver, IdsAreNonZeroAndNeverRepeat) {
  OxidResolverOptions o = Options();
  o.limits.max_oxids_per_uid = 1000;
  OxidResolver r(o);
  std::set<uint64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto oxid = r.RegisterOxid(kOwner, Registration());
    ASSERT_TRUE(oxid.ok()) << oxid.status().ToString();
    EXPECT_NE(*oxid, 0u);
    EXPECT_TRUE(seen.insert(*oxid).second);
    auto oids = r.RegisterOids(kOwner, *oxid, 10, i % 2 == 0);
    ASSERT_TRUE(oids.ok());
    for (uint64_t id : *oids) {
      EXPECT_NE(id, 0u);
      EXPECT_TRUE(seen.insert(id).second);
    }
    uint64_t setid = 0;
    uint16_t backoff = 7;
    EXPECT_EQ(r.ComplexPing(&setid, 1, *oids, {}, &backoff), 0u);
    EXPECT_NE(setid, 0u);
    EXPECT_EQ(backoff, 0u);
    EXPECT_TRUE(seen.insert(setid).second);
  }
  EXPECT_EQ(seen.size(), 200u * 12u);
}

TEST_F(Resolver, OnlyTheRegisteringProcessMayChangeItsOxid) {
  OxidResolver r(Options());
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  for (const OxidOwner& other : {kOtherPid, kOtherUid}) {
    EXPECT_EQ(r.UnregisterOxid(other, oxid).code(), E_ACCESSDENIED);
    EXPECT_EQ(r.RegisterOids(other, oxid, 1, false).status().code(), E_ACCESSDENIED);
    EXPECT_EQ(r.Heartbeat(other, oxid, {}).status().code(), E_ACCESSDENIED);
    const uint64_t some[] = {1};
    EXPECT_EQ(r.UnregisterOids(other, oxid, some).code(), E_ACCESSDENIED);
  }
  const auto events = log_.Named("oxid.unregister_oxid_refused");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].peer, "uid 1000 pid 4243");
  EXPECT_EQ(events[0].hresult, E_ACCESSDENIED);
  EXPECT_EQ(events[0].reason, "not_owner");
  EXPECT_EQ(log_.Named("oxid.heartbeat_refused").size(), 2u);
  // The owner still may, and the OXID is untouched.
  EXPECT_EQ(r.OwnerOf(oxid), kOwner);
  EXPECT_TRUE(r.UnregisterOxid(kOwner, oxid).ok());
  EXPECT_EQ(r.oxid_count(), 0u);
  EXPECT_EQ(r.UnregisterOxid(kOwner, oxid).code(), HResult::FromWin32(OR_INVALID_OXID));
}

TEST_F(Resolver, ResolveOxidFiltersToTheRequestedProtseqs) {
  OxidResolver r(Options());
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  ResolvedOxid out;
  const uint16_t tcp[] = {kTowerIdTcp};
  ASSERT_EQ(r.ResolveOxid(oxid, tcp, &out), 0u);
  ASSERT_EQ(out.bindings.strings.size(), 1u);
  EXPECT_EQ(out.bindings.strings[0].address, u"127.0.0.1[13540]");
  EXPECT_EQ(out.bindings.security, Registration().bindings.security);
  EXPECT_EQ(out.ipid_rem_unknown, Registration().ipid_rem_unknown);
  EXPECT_EQ(out.authn_hint, 2u);
  EXPECT_EQ(out.version, (ComVersion{5, 7}));
  const uint16_t both[] = {kTowerIdNcalrpc, kTowerIdTcp};
  ASSERT_EQ(r.ResolveOxid(oxid, both, &out), 0u);
  EXPECT_EQ(out.bindings.strings.size(), 2u);
  // Samba asks for 0x0C and 0x0D (EPM floor ids): ignored, tower 7 answered.
  const uint16_t samba[] = {0x0C, 0x0D};
  ASSERT_EQ(r.ResolveOxid(oxid, samba, &out), 0u);
  ASSERT_EQ(out.bindings.strings.size(), 1u);
  EXPECT_EQ(out.bindings.strings[0].tower_id, kTowerIdTcp);
  EXPECT_EQ(r.ResolveOxid(oxid ^ 1, tcp, &out), OR_INVALID_OXID);
  EXPECT_EQ(OR_INVALID_OXID, 0x776u);
}

// Case 42: the deadline with default settings is 6 minutes, read on the
// timer value, not waited for.
TEST(OxidResolverDeadline, DefaultDeadlineIsSixMinutes) {
  auto now = std::chrono::steady_clock::time_point(seconds(50));
  OxidResolverOptions o;
  o.clock = [&] { return now; };
  OxidResolver r(o);
  EXPECT_EQ(r.ping_period(), seconds(120));
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  uint64_t oid = (*r.RegisterOids(kOwner, oxid, 1, false))[0];
  ASSERT_TRUE(r.RundownDeadline(oid).has_value());
  EXPECT_EQ(*r.RundownDeadline(oid) - now, minutes(6));
  // A ping moves it: 6 minutes from the ping.
  uint64_t setid = 0;
  uint16_t backoff = 0;
  const uint64_t add[] = {oid};
  ASSERT_EQ(r.ComplexPing(&setid, 1, add, {}, &backoff), 0u);
  now += seconds(100);
  ASSERT_EQ(r.SimplePing(setid), 0u);
  EXPECT_EQ(*r.RundownDeadline(oid) - now, minutes(6));
}

// Case 42 with a 1 s period: not run down after 2 periods, run down by
// 3 periods + the sweep's quarter; the process hears of it once.
TEST_F(Resolver, UnpingedOidRunsDownAfterThreeMissedPeriods) {
  OxidResolver r(Options(seconds(1)));
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  auto oids = *r.RegisterOids(kOwner, oxid, 2, false);
  uint64_t noping = (*r.RegisterOids(kOwner, oxid, 1, true))[0];
  EXPECT_FALSE(r.RundownDeadline(noping).has_value());
  for (int i = 0; i < 8; ++i) {  // 2 s in quarters: alive
    Advance(milliseconds(250));
    auto rundown = r.Heartbeat(kOwner, oxid, {});
    ASSERT_TRUE(rundown.ok());
    EXPECT_TRUE(rundown->empty()) << i;
  }
  EXPECT_EQ(r.oid_count(), 2u);
  Advance(milliseconds(1000));  // 3 s: due
  Advance(milliseconds(250));
  auto rundown = r.Heartbeat(kOwner, oxid, {});
  ASSERT_TRUE(rundown.ok());
  EXPECT_EQ(std::set<uint64_t>(rundown->begin(), rundown->end()),
            std::set<uint64_t>(oids.begin(), oids.end()));
  EXPECT_EQ(r.oid_count(), 0u);
  EXPECT_TRUE(r.Heartbeat(kOwner, oxid, {})->empty());  // reported once
  // The no-ping OID never was in the table and is never reported.
  Advance(seconds(10));
  EXPECT_TRUE(r.Heartbeat(kOwner, oxid, {})->empty());
}

// Case 43: a call reported in the last period defers reclaim; pings do too.
TEST_F(Resolver, UseOrPingDefersReclaim) {
  OxidResolver r(Options(seconds(1)));
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  auto oids = *r.RegisterOids(kOwner, oxid, 3, false);
  uint64_t used = oids[0], pinged = oids[1], idle = oids[2];
  uint64_t setid = 0;
  uint16_t backoff = 0;
  const uint64_t add[] = {pinged};
  ASSERT_EQ(r.ComplexPing(&setid, 1, add, {}, &backoff), 0u);
  std::set<uint64_t> gone;
  for (int i = 0; i < 20; ++i) {  // 5 s
    Advance(milliseconds(250));
    const uint64_t calls[] = {used};
    if (i % 2 == 0) {
      ASSERT_EQ(r.SimplePing(setid), 0u);
    }
    auto rundown = r.Heartbeat(kOwner, oxid, i == 7 ? std::span<const uint64_t>(calls)
                                                       : std::span<const uint64_t>());
    gone.insert(rundown->begin(), rundown->end());
    if (i == 12) {
      // 3.25 s: the idle one has gone, the one used at 2 s has not.
      EXPECT_EQ(gone, std::set<uint64_t>{idle});
    }
  }
  // The used one ran down 3 periods after its use; the pinged one lives.
  EXPECT_EQ(gone, (std::set<uint64_t>{idle, used}));
  EXPECT_TRUE(r.RundownDeadline(pinged).has_value());
}

TEST_F(Resolver, SilentProcessLosesItsOxid) {
  OxidResolver r(Options(seconds(1)));
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  ASSERT_TRUE(r.RegisterOids(kOwner, oxid, 5, false).ok());
  Advance(milliseconds(2900));
  r.SweepForTesting();
  EXPECT_EQ(r.oxid_count(), 1u);
  Advance(milliseconds(100));
  r.SweepForTesting();
  EXPECT_EQ(r.oxid_count(), 0u);
  EXPECT_EQ(r.oid_count(), 0u);
  ResolvedOxid out;
  const uint16_t tcp[] = {kTowerIdTcp};
  EXPECT_EQ(r.ResolveOxid(oxid, tcp, &out), OR_INVALID_OXID);
  EXPECT_EQ(r.Heartbeat(kOwner, oxid, {}).status().code(), HResult::FromWin32(OR_INVALID_OXID));
  EXPECT_EQ(log_.Named("oxid.dropped").size(), 1u);
}

// Case 44: unknown SETIDs and OIDs.
TEST_F(Resolver, UnknownSetIsOrInvalidSet) {
  OxidResolver r(Options());
  EXPECT_EQ(r.SimplePing(0x1234), OR_INVALID_SET);
  EXPECT_EQ(r.SimplePing(0), OR_INVALID_SET);
  uint64_t setid = 0x1234;
  uint16_t backoff = 0;
  EXPECT_EQ(r.ComplexPing(&setid, 1, {}, {}, &backoff), OR_INVALID_SET);
  EXPECT_EQ(setid, 0x1234u);
  EXPECT_EQ(OR_INVALID_SET, 0x778u);
  EXPECT_EQ(r.set_count(), 0u);
  // A set that expired is unknown too.
  setid = 0;
  ASSERT_EQ(r.ComplexPing(&setid, 1, {}, {}, &backoff), 0u);
  EXPECT_EQ(r.SimplePing(setid), 0u);
  Advance(seconds(3));
  EXPECT_EQ(r.SimplePing(setid), OR_INVALID_SET);
}

// Windows's behaviour ([MS-DCOM] 3.1.2.5.1.3): unknown OIDs in AddToSet are
// ignored and the call succeeds.
TEST_F(Resolver, ComplexPingIgnoresUnknownOids) {
  OxidResolver r(Options());
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  uint64_t oid = (*r.RegisterOids(kOwner, oxid, 1, false))[0];
  uint64_t setid = 0;
  uint16_t backoff = 0;
  const uint64_t add[] = {0x1111, oid, 0x2222};
  ASSERT_EQ(r.ComplexPing(&setid, 1, add, {}, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 1u);
  // Deleting unknown ones is harmless; deleting the known one empties it.
  const uint64_t del[] = {0x3333, oid};
  ASSERT_EQ(r.ComplexPing(&setid, 2, {}, del, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 0u);
  // A replayed (older) sequence number changes nothing.
  const uint64_t again[] = {oid};
  ASSERT_EQ(r.ComplexPing(&setid, 2, again, {}, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 0u);
  ASSERT_EQ(r.ComplexPing(&setid, 3, again, {}, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 1u);
}

// Case 44: cAddToSet = 65535 stays bounded in memory and time.
TEST_F(Resolver, ComplexPingWith65535AddsIsBounded) {
  OxidResolverOptions o = Options();
  o.limits.max_oids_per_set = 1000;
  OxidResolver r(o);
  uint64_t oxid = *r.RegisterOxid(kOwner, Registration());
  std::vector<uint64_t> known;
  for (int i = 0; i < 2; ++i) {
    auto more = *r.RegisterOids(kOwner, oxid, 4096, false);
    known.insert(known.end(), more.begin(), more.end());
  }
  // 65535 unknown OIDs: ignored, nothing grows.
  std::vector<uint64_t> unknown(65535);
  for (size_t i = 0; i < unknown.size(); ++i) unknown[i] = 0xABCD0000ull + i;
  uint64_t setid = 0;
  uint16_t backoff = 0;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(r.ComplexPing(&setid, 1, unknown, unknown, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 0u);
  // 65535 adds of known OIDs (repeated) past the per-set bound: refused
  // whole with OR_NOMEM, the set unchanged.
  std::vector<uint64_t> many(65535);
  for (size_t i = 0; i < many.size(); ++i) many[i] = known[i % known.size()];
  EXPECT_EQ(r.ComplexPing(&setid, 2, many, {}, &backoff), OR_NOMEM);
  EXPECT_EQ(r.set_size(setid), 0u);
  // Up to the bound is fine, duplicates counted once.
  std::vector<uint64_t> fits(65535);
  for (size_t i = 0; i < fits.size(); ++i) fits[i] = known[i % 1000];
  EXPECT_EQ(r.ComplexPing(&setid, 3, fits, {}, &backoff), 0u);
  EXPECT_EQ(r.set_size(setid), 1000u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, seconds(2));
  // And the number of sets is bounded.
  OxidResolverOptions small = Options();
  small.limits.max_sets = 3;
  OxidResolver s(small);
  for (int i = 0; i < 3; ++i) {
    uint64_t id = 0;
    EXPECT_EQ(s.ComplexPing(&id, 1, {}, {}, &backoff), 0u);
  }
  uint64_t id = 0;
  EXPECT_EQ(s.ComplexPing(&id, 1, {}, {}, &backoff), OR_NOMEM);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(s.set_count(), 3u);
}

TEST_F(Resolver, OxidAndOidLimits) {
  OxidResolverOptions o = Options();
  o.limits.max_oxids_per_uid = 2;
  o.limits.max_oxids = 3;
  o.limits.max_oids_per_oxid = 5;
  OxidResolver r(o);
  uint64_t a = *r.RegisterOxid(kOwner, Registration());
  ASSERT_TRUE(r.RegisterOxid(kOtherPid, Registration()).ok());
  EXPECT_EQ(r.RegisterOxid(kOwner, Registration()).status().code(), E_OUTOFMEMORY);
  ASSERT_TRUE(r.RegisterOxid(kOtherUid, Registration()).ok());
  EXPECT_EQ(r.RegisterOxid({7, 7}, Registration()).status().code(), E_OUTOFMEMORY);
  EXPECT_EQ(log_.Named("oxid.register_refused").size(), 2u);
  EXPECT_TRUE(r.RegisterOids(kOwner, a, 5, false).ok());
  EXPECT_EQ(r.RegisterOids(kOwner, a, 1, false).status().code(), E_OUTOFMEMORY);
  // No-ping OIDs take no room.
  EXPECT_TRUE(r.RegisterOids(kOwner, a, 100, true).ok());
  EXPECT_EQ(r.RegisterOids(kOwner, a, 0, false).status().code(), E_INVALIDARG);
  EXPECT_EQ(r.RegisterOids(kOwner, a, 4097, false).status().code(), E_INVALIDARG);
  // Bindings: at least one string binding, at most the bound.
  OxidRegistration none = Registration();
  none.bindings.strings.clear();
  EXPECT_EQ(r.RegisterOxid({9, 9}, none).status().code(), E_INVALIDARG);
}

TEST(OxidBindings, EncodesTheFixturesLayout) {
  // tests/data/dcom/ServerAlive2-response.stub.hex: tower 7 "127.0.0.1",
  // security bindings 10, 9, 16 with COM_C_AUTHZ_NONE and no principal.
  OxidBindings b;
  b.strings = {{7, u"127.0.0.1"}};
  b.security = {{10, 0xFFFF, u""}, {9, 0xFFFF, u""}, {16, 0xFFFF, u""}};
  uint16_t offset = 0;
  std::vector<uint16_t> a = b.Encode(&offset);
  EXPECT_EQ(a.size(), 22u);
  EXPECT_EQ(offset, 12u);
  auto back = OxidBindings::Decode(offset, a);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
  // Empty lists are two NULs each.
  OxidBindings empty;
  a = empty.Encode(&offset);
  EXPECT_EQ(a, (std::vector<uint16_t>{0, 0, 0, 0}));
  EXPECT_EQ(offset, 2u);
  EXPECT_EQ(*OxidBindings::Decode(offset, a), empty);
}

TEST(OxidBindings, DecodeRefusesMalformedArrays) {
  OxidBindings b;
  b.strings = {{7, u"host"}};
  b.security = {{10, 0xFFFF, u"p"}};
  uint16_t offset = 0;
  std::vector<uint16_t> good = b.Encode(&offset);
  // Every truncation either decodes what is whole or fails; none crashes.
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint16_t> cut(good.begin(), good.begin() + n);
    auto r = OxidBindings::Decode(std::min<uint16_t>(offset, n), cut);
    (void)r;
  }
  EXPECT_EQ(OxidBindings::Decode(static_cast<uint16_t>(good.size() + 1), good).status().code(),
            RPC_X_BAD_STUB_DATA);
  // A string binding running into the security list.
  std::vector<uint16_t> run = {7, 'h', 'o', 's', 't', 10, 0xFFFF, 0, 0};
  EXPECT_EQ(OxidBindings::Decode(5, run).status().code(), RPC_X_BAD_STUB_DATA);
  // A security binding without its terminator.
  std::vector<uint16_t> open = {0, 0, 10, 0xFFFF, 'p'};
  EXPECT_EQ(OxidBindings::Decode(2, open).status().code(), RPC_X_BAD_STUB_DATA);
  std::vector<uint16_t> half = {0, 0, 10};
  EXPECT_EQ(OxidBindings::Decode(2, half).status().code(), RPC_X_BAD_STUB_DATA);
}

}  // namespace
}  // namespace comsec::com
