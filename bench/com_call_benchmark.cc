// Issue 13's figures: a COM method call (ORPC through a generated proxy,
// the object exporter's dispatch on the MTA's threads, 64 B in and out)
// against a raw DCE/RPC call of the same stub size on the same transport
// (goal: ≤ 1.2× its latency); RemQueryInterface + RemRelease round trips;
// and the memory one exported object costs. Same run, loopback TCP.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <memory>
#include <vector>

#include "comsec/base/check.h"
#include "comsec/base/com_object.h"
#include "comsec/com/object_exporter.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/rpc/server.h"
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

// One server: the exporter's interfaces and a raw DCE echo interface.
struct Servers {
  Servers() {
    exporter = std::make_unique<com::ObjectExporter>();
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
  rpc::InterfaceRegistry registry;
  std::unique_ptr<com::ObjectExporter> exporter;
  std::unique_ptr<rpc::Server> server;
  rpc::StringBinding binding;
  ComPtr<BenchEcho> object;
  Guid ipid;
};

std::unique_ptr<Servers> servers;
void Start(const benchmark::State&) { servers = std::make_unique<Servers>(); }
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
BENCHMARK(BM_RemQueryInterfaceRelease)->Setup(Start)->Teardown(Stop)->UseRealTime();
BENCHMARK(BM_ExportedObjectMemory)->Iterations(1);

BENCHMARK_MAIN();
