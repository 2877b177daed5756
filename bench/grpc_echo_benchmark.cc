// gRPC's unary call rate on the terms of bench/rpc_echo_benchmark.cc — an
// echo of 64 B and 4 KiB over loopback TCP, one connection and 16 at once —
// in plaintext and over TLS, so that scripts/bench.sh can put comsec's rate
// beside a widely used RPC stack's. The TLS certificate is self-signed and
// made at start-up; gRPC is only a benchmark dependency.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>

#include "grpc_echo.grpc.pb.h"

namespace comsec::bench {
namespace {

constexpr int kConnections = 16;
// The name the certificate is issued to and the client checks.
constexpr char kHostName[] = "localhost";

// The server's side: the request's bytes back, on gRPC's callback API (the
// one gRPC recommends for new servers).
class EchoServiceImpl final : public EchoService::CallbackService {
 public:
  using EchoService::CallbackService::Echo;
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoMessage* request,
                                 EchoMessage* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

struct KeyAndCertificate {
  std::string key_pem;
  std::string cert_pem;
};

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr NewMemoryBio() { return BioPtr(BIO_new(BIO_s_mem()), BIO_free); }

std::string Contents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A P-256 key and a self-signed certificate for kHostName, valid for a day;
// empty strings when OpenSSL fails.
KeyAndCertificate MakeSelfSignedCertificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                          EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return {};
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(kHostName),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  // The client trusts this certificate as its root, so it is a CA as well.
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] :
       {std::pair{NID_subject_alt_name, "DNS:localhost"},
        std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return {};
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return {};
  BioPtr key_pem = NewMemoryBio();
  BioPtr cert_pem = NewMemoryBio();
  if (!key_pem || !cert_pem ||
      PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_pem.get(), cert.get()) != 1) {
    return {};
  }
  KeyAndCertificate out;
  out.key_pem = Contents(key_pem.get());
  out.cert_pem = Contents(cert_pem.get());
  return out;
}

// One server and the credentials its clients connect with.
class GrpcEchoServer {
 public:
  explicit GrpcEchoServer(bool tls) {
    std::shared_ptr<grpc::ServerCredentials> server_credentials =
        grpc::InsecureServerCredentials();
    client_credentials_ = grpc::InsecureChannelCredentials();
    if (tls) {
      // One certificate serves every run; making it is not what is measured.
      static const KeyAndCertificate pair = MakeSelfSignedCertificate();
      grpc::SslServerCredentialsOptions options;
      options.pem_key_cert_pairs.push_back({pair.key_pem, pair.cert_pem});
      server_credentials = grpc::SslServerCredentials(options);
      grpc::SslCredentialsOptions client_options;
      client_options.pem_root_certs = pair.cert_pem;
      client_credentials_ = grpc::SslCredentials(client_options);
      tls_ = true;
    }
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", server_credentials, &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    if (server_ != nullptr && port != 0) {
      target_ = "127.0.0.1:" + std::to_string(port);
    }
  }
  ~GrpcEchoServer() {
    if (server_ != nullptr) server_->Shutdown();
  }
  GrpcEchoServer(const GrpcEchoServer&) = delete;
  GrpcEchoServer& operator=(const GrpcEchoServer&) = delete;

  // A stub on a connection of its own, established before it returns; null
  // when the server did not start or the connection failed.
  std::unique_ptr<EchoService::Stub> Connect() const {
    if (target_.empty()) return nullptr;
    grpc::ChannelArguments args;
    // Channels with equal arguments share one connection by default; the
    // 16-connection runs must not.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    if (tls_) args.SetSslTargetNameOverride(kHostName);
    auto channel =
        grpc::CreateCustomChannel(target_, client_credentials_, args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(10))) {
      return nullptr;
    }
    return EchoService::NewStub(channel);
  }

 private:
  EchoServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::ChannelCredentials> client_credentials_;
  std::string target_;  // empty when the server did not start
  bool tls_ = false;
};

// Setup and Teardown are plain function pointers called once per run for
// all of a benchmark's threads, so the server they share lives here.
std::unique_ptr<GrpcEchoServer> grpc_server;

void StartPlaintext(const benchmark::State&) {
  grpc_server = std::make_unique<GrpcEchoServer>(false);
}
void StartTls(const benchmark::State&) {
  grpc_server = std::make_unique<GrpcEchoServer>(true);
}
void Stop(const benchmark::State&) { grpc_server.reset(); }

// One stub (and connection) per thread; with UseRealTime, items/s of a
// threaded run is the aggregate throughput of all its connections.
void RunEcho(benchmark::State& state) {
  std::unique_ptr<EchoService::Stub> stub = grpc_server->Connect();
  if (stub == nullptr) {
    state.SkipWithError("cannot connect to the gRPC server");
    return;
  }
  EchoMessage request;
  request.set_payload(std::string(static_cast<size_t>(state.range(0)), 'Z'));
  for (auto _ : state) {
    grpc::ClientContext context;
    EchoMessage reply;
    grpc::Status status = stub->Echo(&context, request, &reply);
    if (!status.ok()) {
      state.SkipWithError("call failed");
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GrpcEcho_Plaintext(benchmark::State& state) { RunEcho(state); }
BENCHMARK(BM_GrpcEcho_Plaintext)
    ->Setup(StartPlaintext)
    ->Teardown(Stop)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_GrpcEcho_Plaintext)
    ->Setup(StartPlaintext)
    ->Teardown(Stop)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime()
    ->Threads(kConnections);

void BM_GrpcEcho_Tls(benchmark::State& state) { RunEcho(state); }
BENCHMARK(BM_GrpcEcho_Tls)
    ->Setup(StartTls)
    ->Teardown(Stop)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_GrpcEcho_Tls)
    ->Setup(StartTls)
    ->Teardown(Stop)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime()
    ->Threads(kConnections);

}  // namespace
}  // namespace comsec::bench
