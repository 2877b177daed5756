// Generated marshaling against hand-written, in the same run (issue 11):
// IComsecEcho::Echo served by the stub comidl generates from
// examples/echo/echo.idl, and by the hand-written handler it replaced (kept
// here as the baseline), each decoding a request and encoding the reply.
// Report the ratio Generated/HandWritten per size. (The proxy side needs an
// rpc::Client; rpc_echo_benchmark measures whole calls.)
#include <benchmark/benchmark.h>

#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "echo.h"

namespace {

using namespace comsec;

std::vector<uint8_t> Request(uint32_t n) {
  ndr::Encoder e;
  e.U32(n);
  e.Conformance(n);
  std::vector<uint8_t> data(n, 0x5A);
  e.Bytes(data);
  return std::move(e).Take();
}

// The hand-written handler of examples/echo before comidl. Not inlined,
// as the generated one is called through an OpHandler. GCC 12 at -O3
// reports a false stringop-overread in Encoder::Bytes here (a vector
// insert after push_back), as for GCC bug 105651.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
[[gnu::noinline]] Result<std::vector<uint8_t>> HandWrittenEcho(std::span<const uint8_t> stub,
                                             const rpc::CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  if (max_count != n) return d.Error("size_is differs from max_count");
  COMSEC_ASSIGN_OR_RETURN(auto data, d.Bytes(max_count));
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.Conformance(static_cast<uint32_t>(data.size()));
  e.Bytes(data);
  e.I32(0);
  return std::move(e).Take();
}
#pragma GCC diagnostic pop

class EchoImpl final : public idl::IComsecEcho {
 public:
  Result<int32_t> Echo(uint32_t, std::span<const uint8_t> data,
                       std::vector<uint8_t>& out) override {
    out.assign(data.begin(), data.end());
    return 0;
  }
  Result<int32_t> Add(int32_t, int32_t, int32_t&) override { return 0; }
  Result<int32_t> WhoAmI(std::optional<std::u16string>&, int32_t&, int32_t&) override {
    return 0;
  }
};

void BM_Server_HandWritten(benchmark::State& state) {
  auto stub = Request(static_cast<uint32_t>(state.range(0)));
  rpc::CallContext call;
  for (auto _ : state) {
    auto r = HandWrittenEcho(stub, call);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_Server_Generated(benchmark::State& state) {
  auto stub = Request(static_cast<uint32_t>(state.range(0)));
  rpc::InterfaceRegistration reg = idl::IComsecEchoRegistration(std::make_shared<EchoImpl>());
  rpc::CallContext call;
  for (auto _ : state) {
    auto r = reg.operations[0](stub, call);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_Server_HandWritten)->Arg(64)->Arg(4096)->Arg(65536);
BENCHMARK(BM_Server_Generated)->Arg(64)->Arg(4096)->Arg(65536);

}  // namespace
