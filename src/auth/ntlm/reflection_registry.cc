#include "comsec/auth/ntlm/reflection_registry.h"

#include <algorithm>

namespace comsec::auth::ntlm {

ReflectionRegistry::ReflectionRegistry(Limits limits, const Logger* logger, Clock clock)
    : limits_(limits), logger_(logger), clock_(std::move(clock)) {}

void ReflectionRegistry::RememberReceived(const Challenge& challenge,
                                          const rpc::TransportEndpoint& local,
                                          const rpc::TransportEndpoint& peer) {
  const auto now = Now();
  bool full = false;
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
        full = true;
      }
    }
    entries_.push_back({challenge, local, peer, now});
  }
  // Outside the lock: the sinks may take time or locks of their own.
  if (full && logger_) {
    logger_->Log(LogEvent("ntlm.reflection_registry_full", LogSeverity::kWarning,
                          "the reflection registry is full (" +
                              std::to_string(limits_.max_entries) +
                              " challenges received within their lifetime); the oldest are "
                              "forgotten, so a reflection of one of them would not be "
                              "recognized (MS08-068)")
                     .Extra("max_entries", std::to_string(limits_.max_entries)));
  }
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
