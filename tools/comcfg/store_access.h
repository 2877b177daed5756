// Opening the configuration store for comcfg: --store, else $COMSEC_STORE,
// else the system store.
#pragma once

#include <memory>
#include <string>

#include "comsec/base/result.h"
#include "comcfg/command.h"
#include "comsec/config/store.h"

namespace comsec::comcfg {

// The system store, used when neither --store nor COMSEC_STORE is given.
inline constexpr char kSystemStorePath[] = "/var/lib/comsec/store.db";

std::string StorePath(const GlobalOptions& global);

// Opens an existing store; a missing store is ERROR_NOT_FOUND with the
// advice to run 'comcfg init'. Read-only opens work for any user who may
// read the store; writing is its owner's (E_ACCESSDENIED for others).
enum class StoreAccess { kRead, kWrite };
Result<std::unique_ptr<config::Store>> OpenStore(const GlobalOptions& global,
                                                 StoreAccess access = StoreAccess::kWrite);

// Maps a failed Status to comcfg's exit status: not found is 1, bad input
// 2, anything else (I/O, busy) 2 as well, with the message on stderr.
int ReportFailure(const Io& io, const Status& status);

// Runs `fn(tx)` in a write transaction of the store and commits when it
// succeeds; returns comcfg's exit status.
template <typename Fn>
int WithWrite(const GlobalOptions& global, const Io& io, Fn fn) {
  auto store = OpenStore(global);
  if (!store.ok()) return ReportFailure(io, store.status());
  auto tx = (*store)->BeginWrite();
  if (!tx.ok()) return ReportFailure(io, tx.status());
  Status s = fn(**tx);
  if (s.ok()) s = (*tx)->Commit();
  return s.ok() ? kExitOk : ReportFailure(io, s);
}

// Runs `fn(tx)` in one read snapshot of the store.
template <typename Fn>
int WithRead(const GlobalOptions& global, const Io& io, Fn fn) {
  auto store = OpenStore(global, StoreAccess::kRead);
  if (!store.ok()) return ReportFailure(io, store.status());
  auto tx = (*store)->BeginRead();
  if (!tx.ok()) return ReportFailure(io, tx.status());
  Status s = fn(**tx);
  return s.ok() ? kExitOk : ReportFailure(io, s);
}

}  // namespace comsec::comcfg
