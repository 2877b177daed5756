// The access check on its hot path: a 20-group token against a 10-ACE DACL
// (issue 2's figure: >= 5 million checks per second on one core), beside
// baselines measured in the same run — one SID comparison and one token
// lookup — and the parsers that feed it.
#include <benchmark/benchmark.h>

#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

// A realistic network caller: a domain user with 16 domain/Unix groups plus
// the four logon groups ForAuthenticatedUser adds = 20 groups.
Token MakeToken() {
  std::vector<Sid> groups;
  for (uint32_t i = 0; i < 16; ++i) {
    groups.push_back(Sid(5, {21, 1111, 2222, 3333, 2000 + i}));
  }
  Token t = Token::ForAuthenticatedUser(Sid(5, {21, 1111, 2222, 3333, 1001}),
                                        groups, LogonKind::kNetwork);
  return t;
}

// Ten ACEs; the one that grants the caller is the last, so every ACE is
// matched against every token SID (the worst case for a grant).
SecurityDescriptor MakeDescriptor() {
  std::string sddl = "O:BAG:BAD:";
  for (int i = 0; i < 9; ++i) {
    sddl += "(A;;CCDCLCSWRP;;;S-1-5-21-9-9-9-" + std::to_string(500 + i) + ")";
  }
  sddl += "(A;;CCDCLCSWRP;;;S-1-5-21-1111-2222-3333-2015)";
  return *ParseSddl(sddl);
}

void BM_AccessCheck_20Groups_10Aces(benchmark::State& state) {
  Token token = MakeToken();
  SecurityDescriptor sd = MakeDescriptor();
  for (auto _ : state) {
    AccessCheckResult r = ComAccessCheck(
        sd, token, COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AccessCheck_20Groups_10Aces);

void BM_AccessCheck_DeniedFirstAce(benchmark::State& state) {
  Token token = MakeToken();
  SecurityDescriptor sd = *ParseSddl("D:(D;;CCDC;;;NU)(A;;CCDCLCSWRP;;;WD)");
  for (auto _ : state) {
    AccessCheckResult r = ComAccessCheck(
        sd, token, COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AccessCheck_DeniedFirstAce);

// Baseline: one token lookup (21 entries scanned, no match).
void BM_Baseline_TokenMatchMiss(benchmark::State& state) {
  Token token = MakeToken();
  Sid other(5, {21, 9, 9, 9, 500});
  for (auto _ : state) {
    benchmark::DoNotOptimize(token.Match(other));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_TokenMatchMiss);

// Baseline: a full SID equality test.
void BM_Baseline_SidEquality(benchmark::State& state) {
  Sid a(5, {21, 1111, 2222, 3333, 1001});
  Sid b(5, {21, 1111, 2222, 3333, 1001});
  for (auto _ : state) {
    benchmark::DoNotOptimize(a == b);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_SidEquality);

void BM_ParseSddl_MachineLaunchRestriction(benchmark::State& state) {
  for (auto _ : state) {
    auto sd = ParseSddl("O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)");
    benchmark::DoNotOptimize(sd);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseSddl_MachineLaunchRestriction);

void BM_DecodeBinary_10Aces(benchmark::State& state) {
  std::vector<uint8_t> bytes = MakeDescriptor().Encode();
  for (auto _ : state) {
    auto sd = SecurityDescriptor::Decode(bytes);
    benchmark::DoNotOptimize(sd);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeBinary_10Aces);

}  // namespace
}  // namespace comsec::security
