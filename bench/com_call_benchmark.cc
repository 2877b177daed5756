// Issue 13's figures: a COM method call (ORPC through a generated proxy,
// the object exporter's dispatch on the MTA's threads, 64 B in and out)
// against a raw DCE/RPC call of the same stub size on the same transport
// (goal: ≤ 1.2× its latency); RemQueryInterface + RemRelease round trips;
// and the memory one exported object costs. Same run, loopback TCP.
// Issue 14's: the same COM call through the process's access check (R187:
// level floor, MachineAccessRestriction, AppID AccessPermission decided by
// config::Decide on every call; goal ≤ 5% over the unchecked call), the
// check alone, and impersonate + revert per second.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "comsec/base/check.h"
#include "comsec/base/com_object.h"
#include "comsec/com/call_access.h"
#include "comsec/com/object_exporter.h"
#include "comsec/com/server_security.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"
#include "comsec/rpc/server.h"
#include "comsec/security/sddl.h"
#include "comsec/security/unix_identity.h"
#include "com_call.h"
#include "iremunknown.h"

using namespace comsec;

namespace {

const rpc::SyntaxId kRaw{*Guid::Parse("9e1d2c3b-4a59-4e68-9d7c-8b9a0f1e2d41"), 1, 0};

class BenchEcho final : public ComObject<idl::IBenchEcho> {
 public:
  Result<idl::HRESULT> Echo(int32_t, std::span<const uint8_t> data,
                            std::vector<uint8_t>& back) override {
    back.assign(data.begin(), data.end());
    return 0;
  }
};

class Nobody final : public ComObject<idl::IBenchEcho> {
 public:
  Result<idl::HRESULT> Echo(int32_t, std::span<const uint8_t>, std::vector<uint8_t>&) override {
    return 0;
  }
};

// A machine whose policy lets the benchmark's unauthenticated (remote
// ANONYMOUS LOGON) calls through every check of R187, the grant being the
// last of the AppID's four ACEs: the whole check runs on every call.
const Guid kBenchAppId = *Guid::Parse("{5b0c8a8e-3f1d-4a52-9f0e-2d7c1b6a4e90}");

struct BenchPolicy {
  BenchPolicy() {
    char tmpl[] = "/tmp/comsec-bench-XXXXXX";
    COMSEC_CHECK(::mkdtemp(tmpl) != nullptr, "mkdtemp");
    dir = tmpl;
    auto store = config::Store::Open(dir + "/store.db");
    COMSEC_CHECK(store.ok(), store.status().ToString());
    auto set = [&](config::SettingScope scope, const char* name, const char* input,
                   const config::KeyPath& key) {
      auto v = config::EncodeSetting(*config::FindSetting(scope, name), input);
      COMSEC_CHECK(v.ok() && (*store)->SetValue(key, *v).ok(), name);
    };
    set(config::SettingScope::kMachine, "MachineAccessRestriction",
        "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDCLC;;;AN)", config::OleKeyPath());
    set(config::SettingScope::kAppId, "AuthenticationLevel", "1",
        config::AppIdKeyPath(kBenchAppId));
    // Level NONE from the registry would skip the descriptor (R141): an
    // explicit CoInitializeSecurity descriptor is checked instead.
    com::CallAccessOptions o;
    o.store_path = dir + "/store.db";
    auto g = com::CallAccessGate::Open(o);
    COMSEC_CHECK(g.ok(), g.status().ToString());
    gate = std::move(*g);
    config::ProcessSecurity cis;
    cis.authn_level = security::AuthnLevel::kNone;
    cis.access = config::ProcessSecurity::Access::kDescriptor;
    cis.access_sd = *security::ParseSddl(
        "O:BAG:BAD:(A;;CCDCLC;;;SY)(A;;CCDCLC;;;BA)(A;;CCDCLC;;;S-1-22-1-4242)(A;;CCDCLC;;;AN)");
    com::ProcessSecuritySettings base;
    base.appid = kBenchAppId;
    auto s = gate->Initialize(cis, base);
    COMSEC_CHECK(s.ok(), s.status().ToString());
  }
  ~BenchPolicy() {
    gate.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  std::unique_ptr<com::CallAccessGate> gate;
};

// One server: the exporter's interfaces and a raw DCE echo interface; with
// `checked`, the exporter runs the access check on every call.
struct Servers {
  explicit Servers(bool checked = false) {
    com::ObjectExporterOptions options;
    if (checked) {
      policy = std::make_unique<BenchPolicy>();
      options.gate = policy->gate.get();
    }
    exporter = std::make_unique<com::ObjectExporter>(std::move(options));
    exporter->Attach(registry);
    rpc::InterfaceRegistration raw;
    raw.syntax = kRaw;
    raw.operations.push_back([](std::span<const uint8_t> stub, const rpc::CallContext&)
                                 -> Result<std::vector<uint8_t>> {
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry.Register(std::move(raw));
    server = std::make_unique<rpc::Server>(&registry, rpc::ServerOptions{});
    auto bound = server->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    COMSEC_CHECK(bound.ok(), bound.status().ToString());
    binding = *bound;
    object = MakeComObject<BenchEcho>();
    auto e = exporter->Export(object.get(), idl::IBenchEchoInfo(), 1);
    COMSEC_CHECK(e.ok(), e.status().ToString());
    ipid = e->ipid;
  }
  ~Servers() {
    server->Stop();
    exporter.reset();
  }
  std::unique_ptr<BenchPolicy> policy;
  rpc::InterfaceRegistry registry;
  std::unique_ptr<com::ObjectExporter> exporter;
  std::unique_ptr<rpc::Server> server;
  rpc::StringBinding binding;
  ComPtr<BenchEcho> object;
  Guid ipid;
};

std::unique_ptr<Servers> servers;
void Start(const benchmark::State&) { servers = std::make_unique<Servers>(); }
void StartChecked(const benchmark::State&) { servers = std::make_unique<Servers>(true); }
void Stop(const benchmark::State&) { servers.reset(); }

std::unique_ptr<rpc::Client> Bound(const rpc::SyntaxId& syntax) {
  auto c = rpc::Client::Connect(servers->binding);
  COMSEC_CHECK(c.ok(), c.status().ToString());
  COMSEC_CHECK((*c)->Bind(syntax).ok(), "bind");
  return std::move(*c);
}

// The raw call carries what the COM call's stub carries without ORPC: the
// count, the conformant array, and the same bytes back.
void BM_RawDceCall_64B(benchmark::State& state) {
  auto client = Bound(kRaw);
  std::vector<uint8_t> stub(4 + 4 + 64, 0x5A);
  for (auto _ : state) {
    auto r = client->Call(0, stub);
    if (!r.ok()) {
      state.SkipWithError("call failed");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ComCall_64B(benchmark::State& state) {
  ComPtr<Nobody> identity = MakeComObject<Nobody>();
  com::OrpcChannel channel(Bound({idl::IID_IBenchEcho, 0, 0}), servers->ipid, identity.get());
  idl::IBenchEchoProxy proxy(&channel);
  std::vector<uint8_t> data(64, 0x5A), back;
  for (auto _ : state) {
    auto r = proxy.Echo(64, data, back);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(back);
  }
  state.SetItemsProcessed(state.iterations());
}

// The access check alone, as the exporter runs it for one call.
void BM_AccessCheckPerCall(benchmark::State& state) {
  BenchPolicy policy;
  rpc::CallContext call;
  call.peer = "127.0.0.1:40000";
  call.security.authn_level = security::AuthnLevel::kNone;
  for (auto _ : state) {
    HResult hr = policy.gate->Check(call);
    if (hr.Failed()) {
      state.SkipWithError("the check refused");
      break;
    }
    benchmark::DoNotOptimize(hr);
  }
  state.SetItemsProcessed(state.iterations());
}

// The same for an authenticated caller already allowed once on its
// authentication context (its token): the gate's cache answers.
void BM_AccessCheckPerCall_KnownCaller(benchmark::State& state) {
  BenchPolicy policy;
  security::UnixIdentity id;
  id.uid = 4242;
  id.gids = {4242};
  id.group_names = {""};
  rpc::CallContext call;
  call.peer = "127.0.0.1:40000";
  call.security.authn_level = security::AuthnLevel::kPktPrivacy;
  security::UnixTokenOptions o;
  o.logon = security::LogonKind::kNetwork;
  call.security.token =
      std::make_shared<const security::Token>(security::TokenForUnixIdentity(id, o));
  for (auto _ : state) {
    HResult hr = policy.gate->Check(call);
    if (hr.Failed()) {
      state.SkipWithError("the check refused");
      break;
    }
    benchmark::DoNotOptimize(hr);
  }
  state.SetItemsProcessed(state.iterations());
}

// CoImpersonateClient + CoRevertToSelf inside one call's scope: the token
// always; the thread's Unix identity too when the process may switch it
// (root), as a method impersonating a local caller does.
void BM_ImpersonateRevert(benchmark::State& state) {
  security::UnixIdentity nobody;
  nobody.uid = 65534;
  nobody.gids = {65534};
  nobody.group_names = {"nogroup"};
  rpc::CallSecurity caller;
  caller.authn_level = security::AuthnLevel::kPktPrivacy;
  caller.imp_level = security::ImpLevel::kImpersonate;
  caller.principal = "unix:nobody";
  caller.token = std::make_shared<const security::Token>(
      security::TokenForUnixIdentity(nobody, security::UnixTokenOptions{}));
  com::ServerCallScope scope(caller);
  for (auto _ : state) {
    if (com::CoImpersonateClient().Failed() || com::CoRevertToSelf().Failed()) {
      state.SkipWithError("impersonation failed");
      break;
    }
  }
  state.counters["switches_uid"] = ::geteuid() == 0 ? 1 : 0;
  state.SetItemsProcessed(state.iterations());
}

// RemQueryInterface for a new reference, then RemRelease of it.
void BM_RemQueryInterfaceRelease(benchmark::State& state) {
  ComPtr<Nobody> identity = MakeComObject<Nobody>();
  com::OrpcChannel channel(Bound({idl::IID_IRemUnknown, 0, 0}),
                           servers->exporter->rem_unknown_ipid(), identity.get());
  idl::IRemUnknownProxy rem(&channel);
  for (auto _ : state) {
    std::optional<std::vector<idl::REMQIRESULT>> results;
    auto r = rem.RemQueryInterface(servers->ipid, 1, 1, {idl::IID_IBenchEcho}, results);
    if (!r.ok() || *r != 0) {
      state.SkipWithError("RemQueryInterface failed");
      break;
    }
    auto rel = rem.RemRelease(1, {{(*results)[0].std.ipid, 1, 0}});
    benchmark::DoNotOptimize(rel);
  }
  state.SetItemsProcessed(state.iterations());
}

// What exporting one more object costs the server: 10 000 objects, one
// interface each, measured as the heap's growth.
void BM_ExportedObjectMemory(benchmark::State& state) {
  for (auto _ : state) {
    com::ObjectExporterOptions one_thread;
    one_thread.threads = 1;
    com::ObjectExporter exporter(one_thread);
    std::vector<ComPtr<BenchEcho>> objects;
    objects.reserve(10000);
    for (int i = 0; i < 10000; ++i) objects.push_back(MakeComObject<BenchEcho>());
    const size_t before = mallinfo2().uordblks;
    for (auto& o : objects) {
      auto e = exporter.Export(o.get(), idl::IBenchEchoInfo(), 1);
      benchmark::DoNotOptimize(e);
    }
    const size_t after = mallinfo2().uordblks;
    state.counters["bytes_per_object"] = static_cast<double>(after - before) / 10000.0;
  }
}

}  // namespace

BENCHMARK(BM_RawDceCall_64B)->Setup(Start)->Teardown(Stop)->UseRealTime();
BENCHMARK(BM_ComCall_64B)->Setup(Start)->Teardown(Stop)->UseRealTime();
BENCHMARK(BM_ComCall_64B)->Name("BM_ComCall_64B_AccessChecked")->Setup(StartChecked)
    ->Teardown(Stop)->UseRealTime();
BENCHMARK(BM_AccessCheckPerCall);
BENCHMARK(BM_AccessCheckPerCall_KnownCaller);
BENCHMARK(BM_ImpersonateRevert);
BENCHMARK(BM_RemQueryInterfaceRelease)->Setup(Start)->Teardown(Stop)->UseRealTime();
BENCHMARK(BM_ExportedObjectMemory)->Iterations(1);

BENCHMARK_MAIN();
