// The client half of COM's garbage collection ([MS-DCOM] 3.2.2.4): a
// process that holds proxies keeps their objects alive by pinging each
// object's machine. One ping set per resolver: ComplexPing adds and removes
// OIDs (creating the set on first use), SimplePing keeps the set alive
// when nothing changed. A set the resolver forgot (OR_INVALID_SET, e.g.
// after a restart) is created again with every OID; a resolver that cannot
// be reached is tried again next period, its set kept.
//
// Pings go every `interval` (the servers' ping period or less) from a
// thread of the pinger's own; IObjectExporter is called unauthenticated,
// as Windows's resolvers do.
//
// Thread-safety: Add, Remove and PingNow may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "comsec/base/log.h"
#include "comsec/rpc/client.h"

namespace comsec::com {

class PingClient {
 public:
  PingClient(std::chrono::milliseconds interval, const Logger* logger);
  ~PingClient();  // stops pinging; the servers run the objects down
  PingClient(const PingClient&) = delete;
  PingClient& operator=(const PingClient&) = delete;

  // Pings `oid` at the resolver `resolver` ("ncacn_ip_tcp:host[port]").
  void Add(const std::string& resolver, uint64_t oid);
  void Remove(const std::string& resolver, uint64_t oid);
  // One round now, on the calling thread (tests, and a clean exit).
  void PingNow();
  // The sets' ids, for tests: 0 until the first ComplexPing created it.
  uint64_t SetIdOf(const std::string& resolver) const;

 private:
  struct Set {
    std::unique_ptr<rpc::Client> client;
    uint64_t setid = 0;
    uint16_t sequence = 0;
    std::set<uint64_t> oids;     // what the resolver has
    std::set<uint64_t> to_add;   // added since the last ComplexPing
    std::set<uint64_t> to_drop;  // removed since
  };
  void Run();
  // Pings one set; called without mu_ (a round works on a copy).
  void PingSet(const std::string& resolver, Set& set);

  const std::chrono::milliseconds interval_;
  const Logger* const logger_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, Set> sets_;
  std::mutex round_mu_;  // one round at a time
  std::thread thread_;
};

}  // namespace comsec::com
