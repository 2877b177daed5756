#include "comsec/com/local_transport.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/advertised_bindings.h"
#include "comsec/com/random_ids.h"
#include "comsec/security/thread_impersonation.h"
#include "comsec/security/unix_identity.h"

namespace comsec::com {
namespace {

// A path a string binding "ncalrpc:[PATH]" carries unchanged.
bool BindablePath(const std::string& path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (c == '[' || c == ']' || c == ',' || c == '\0' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

// The thread's own effective ids (the raw system calls name the calling
// thread; glibc's wrappers do too, but say so here).
uint32_t ThreadEuid() { return static_cast<uint32_t>(::syscall(SYS_geteuid)); }
uint32_t ThreadEgid() { return static_cast<uint32_t>(::syscall(SYS_getegid)); }

}  // namespace

std::string DefaultLocalEndpointDir() { return "/tmp/comsec-" + std::to_string(::geteuid()); }

Result<rpc::StringBinding> NewLocalExporterEndpoint(const std::string& dir) {
  if (!BindablePath(dir)) {
    return Status(RPC_S_INVALID_STRING_BINDING,
                  "the local endpoint directory '" + dir +
                      "' is not an absolute path a string binding can carry");
  }
  char name[64];
  std::snprintf(name, sizeof name, "/com-%ld-%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(RandomId()));
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  path += name;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Status(RPC_S_INVALID_STRING_BINDING,
                  "the local endpoint " + path + " is too long for a Unix socket address");
  }
  return rpc::StringBinding::Parse("ncalrpc:[" + path + "]");
}

OxidBindings::String LocalStringBinding(const rpc::StringBinding& endpoint) {
  return {kTowerIdNcalrpc, Utf8ToUtf16Lossy(rpc::LocalEndpointPath(endpoint.endpoint))};
}

std::optional<rpc::StringBinding> ReachableLocalBinding(const OxidBindings::String& advertised) {
  if (advertised.tower_id != kTowerIdNcalrpc) return std::nullopt;
  const std::string path = Utf16ToUtf8Lossy(advertised.address);
  if (!BindablePath(path) || path.size() >= sizeof(sockaddr_un{}.sun_path)) return std::nullopt;
  auto parsed = rpc::StringBinding::Parse("ncalrpc:[" + path + "]");
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

Result<std::vector<uint32_t>> TrustedLocalServerUids(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return Status(RPC_S_INVALID_STRING_BINDING, "the ncalrpc endpoint " + path + " has no directory");
  }
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    return Status(RPC_S_SERVER_UNAVAILABLE,
                  "the ncalrpc endpoint's directory " + dir + " is not on this machine (" +
                      std::strerror(errno) + ")");
  }
  if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status(SEC_E_WRONG_PRINCIPAL,
                  "the ncalrpc endpoint's directory " + dir +
                      " may be written by group or others, so its socket proves no server");
  }
  std::vector<uint32_t> trusted = {static_cast<uint32_t>(st.st_uid)};
  if (st.st_uid != 0) trusted.push_back(0);
  return trusted;
}

std::vector<rpc::StringBinding> ConnectionCandidates(const OxidBindings& exporter) {
  std::vector<rpc::StringBinding> out;
  for (const OxidBindings::String& s : exporter.strings) {
    if (auto b = ReachableLocalBinding(s)) out.push_back(std::move(*b));
  }
  for (const OxidBindings::String& s : exporter.strings) {
    if (s.tower_id == kTowerIdNcalrpc) continue;
    if (auto b = ReachableBinding(s)) out.push_back(std::move(*b));
  }
  return out;
}

// ==== ProcessDialer ==========================================================
// Invariant: the dialer's thread runs as the process between jobs; a job
// that switches to another identity reverts before it returns (the
// ThreadImpersonation guard aborts the process if it cannot).

ProcessDialer::ProcessDialer() : uid_(ThreadEuid()), gid_(ThreadEgid()) {
  thread_ = std::thread([this] { Loop(); });
}

ProcessDialer::~ProcessDialer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool ProcessDialer::ThreadRunsAsProcess() const {
  return ThreadEuid() == uid_ && ThreadEgid() == gid_;
}

void ProcessDialer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

void ProcessDialer::RunOnDialerThread(std::function<void()> job) const {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back([&] {
      job();
      std::lock_guard<std::mutex> d(done_mu);
      done = true;
      done_cv.notify_one();
    });
  }
  cv_.notify_one();
  std::unique_lock<std::mutex> d(done_mu);
  done_cv.wait(d, [&] { return done; });
}

Result<rpc::Socket> ProcessDialer::Dial(const rpc::StringBinding& binding, int timeout_ms,
                                        std::optional<uint32_t> as_uid) const {
  if (!binding.IsLocal()) return rpc::Socket::Connect(binding, timeout_ms);
  const bool here = as_uid ? ThreadEuid() == *as_uid : ThreadRunsAsProcess();
  if (here) return rpc::Socket::Connect(binding, timeout_ms);
  std::optional<Result<rpc::Socket>> out;
  RunOnDialerThread([&] {
    if (!as_uid || *as_uid == uid_) {
      out.emplace(rpc::Socket::Connect(binding, timeout_ms));
      return;
    }
    auto identity = security::LookupUnixUser(*as_uid);
    if (!identity.ok()) {
      out.emplace(identity.status());
      return;
    }
    auto switched = security::ThreadImpersonation::Begin(*identity);
    if (!switched.ok()) {
      out.emplace(Status(E_ACCESSDENIED, "cannot connect as uid " + std::to_string(*as_uid) +
                                             ": " + std::string(switched.status().message())));
      return;
    }
    out.emplace(rpc::Socket::Connect(binding, timeout_ms));
    // `switched` reverts here, before the next job.
  });
  return std::move(*out);
}

std::function<Result<rpc::Socket>(const rpc::StringBinding&, int)> ProcessDialer::DialFunction(
    std::shared_ptr<const ProcessDialer> dialer, std::optional<uint32_t> as_uid) {
  return [dialer = std::move(dialer), as_uid](const rpc::StringBinding& b, int timeout_ms) {
    return dialer->Dial(b, timeout_ms, as_uid);
  };
}

}  // namespace comsec::com
