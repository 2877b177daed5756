#include "comsec/auth/ntlm/reflection_registry.h"

#include <algorithm>

namespace comsec::auth::ntlm {

ReflectionRegistry::ReflectionRegistry(Limits limits,
                                       std::function<void(const std::string&)> log,
                                       Clock clock)
    : limits_(limits), log_(std::move(log)), clock_(std::move(clock)) {}

void ReflectionRegistry::RememberReceived(const Challenge& challenge,
                                          const rpc::TransportEndpoint& local,
                                          const rpc::TransportEndpoint& peer) {
  const auto now = Now();
  std::string warning;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!entries_.empty() && now - entries_.front().received > limits_.lifetime) {
      entries_.pop_front();
    }
    if (limits_.max_entries == 0) return;
    if (entries_.size() < limits_.max_entries) {
      eviction_logged_ = false;
    } else {
      while (entries_.size() >= limits_.max_entries) entries_.pop_front();
      if (!eviction_logged_) {
        eviction_logged_ = true;
        warning = "ntlm: the reflection registry is full (" +
                  std::to_string(limits_.max_entries) +
                  " challenges received within their lifetime); the oldest are "
                  "forgotten, so a reflection of one of them would not be recognized "
                  "(MS08-068)";
      }
    }
    entries_.push_back({challenge, local, peer, now});
  }
  // Outside the lock: the sink may take time or locks of its own.
  if (!warning.empty() && log_) log_(warning);
}

bool ReflectionRegistry::IsReflected(const Challenge& challenge,
                                     const rpc::TransportEndpoint& local,
                                     const rpc::TransportEndpoint& peer) const {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (e.challenge != challenge || now - e.received > limits_.lifetime) return false;
    // The same connection seen from its other end: our client's end is
    // our server's peer and the reverse, every end known.
    const bool same_connection = e.client_local.known() && e.client_peer.known() &&
                                 e.client_local == peer && e.client_peer == local;
    return !same_connection;
  });
}

size_t ReflectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace comsec::auth::ntlm
