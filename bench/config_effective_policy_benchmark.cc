// Effective-policy resolution (issue 3's figures: >= 1 million/s cached,
// >= 50 000/s from the store), with a same-run baseline: one read of one
// value from the store, the smallest unit of an uncached resolution.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "comsec/config/com_schema.h"
#include "comsec/config/explain.h"
#include "comsec/config/policy_cache.h"
#include "comsec/security/sddl.h"

namespace comsec::config {
namespace {

// A store like a configured machine: defaults plus 200 AppIDs, each with
// its own level and permissions.
struct Fixture {
  std::string dir;
  std::unique_ptr<Store> store;
  std::vector<Guid> appids;

  Fixture() {
    char tmpl[] = "/tmp/comsec-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    store = std::move(*Store::Open(dir + "/store.db"));
    auto tx = std::move(*store->BeginWrite());
    auto sd = [](const char* s) { return security::ParseSddl(s)->Encode(); };
    (void)tx->SetValue(OleKeyPath(), RegValue::Dword("LegacyAuthenticationLevel", 2));
    (void)tx->SetValue(OleKeyPath(), RegValue::Binary("MachineLaunchRestriction",
                                                      sd(kDefaultMachineLaunchRestriction)));
    (void)tx->SetValue(OleKeyPath(), RegValue::Binary("MachineAccessRestriction",
                                                      sd(kDefaultMachineAccessRestriction)));
    for (uint32_t i = 0; i < 200; ++i) {
      Guid g = *Guid::Parse("00000000-1111-2222-3333-444444444444");
      g.data1 = i;
      appids.push_back(g);
      KeyPath k = AppIdKeyPath(g);
      (void)tx->SetValue(k, RegValue::String("", "app"));
      (void)tx->SetValue(k, RegValue::Dword("AuthenticationLevel", 5));
      (void)tx->SetValue(k, RegValue::Binary("LaunchPermission",
                                             sd("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;AU)")));
      (void)tx->SetValue(k, RegValue::Binary("AccessPermission",
                                             sd("O:BAG:BAD:(A;;CCDCLC;;;AU)(A;;CCDCLC;;;SY)")));
    }
    (void)tx->Commit();
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

// Destroyed at exit, which removes the store's directory.
Fixture& Shared() {
  static Fixture f;
  return f;
}

void BM_Baseline_StoreGetValue(benchmark::State& state) {
  Fixture& f = Shared();
  KeyPath k = AppIdKeyPath(f.appids[7]);
  for (auto _ : state) {
    auto v = f.store->GetValue(k, "AuthenticationLevel");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_StoreGetValue);

void BM_EffectivePolicy_Uncached(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = 0;
  for (auto _ : state) {
    auto tx = f.store->BeginRead();
    auto p = ResolveEffectivePolicy(**tx, f.appids[i++ % f.appids.size()],
                                    nullptr);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EffectivePolicy_Uncached);

void BM_EffectivePolicy_Cached(benchmark::State& state) {
  Fixture& f = Shared();
  PolicyCache cache(f.store.get());
  (void)cache.Refresh();
  for (const Guid& g : f.appids) (void)cache.Get(g);
  size_t i = 0;
  for (auto _ : state) {
    auto p = cache.Get(f.appids[i++ % f.appids.size()]);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EffectivePolicy_Cached);

// A full cached decision: policy lookup plus the two access checks.
void BM_Decide_Cached(benchmark::State& state) {
  Fixture& f = Shared();
  PolicyCache cache(f.store.get());
  (void)cache.Refresh();
  security::Token token = security::Token::ForAuthenticatedUser(
      security::Sid(5, {21, 1, 2, 3, 1001}), {}, security::LogonKind::kNetwork);
  AccessRequest req;
  req.operation = Operation::kAccess;
  req.token = &token;
  req.remote = true;
  req.authn_level = AuthnLevel::kPktPrivacy;
  size_t i = 0;
  for (auto _ : state) {
    auto p = cache.Get(f.appids[i++ % f.appids.size()]);
    Decision d = Decide(**p, req);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decide_Cached);

}  // namespace
}  // namespace comsec::config
