// Opening the configuration store for comcfg: --store, else $COMSEC_STORE,
// else the system store.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "comcfg/command.h"
#include "config/store.h"

namespace comsec::comcfg {

// The system store, used when neither --store nor COMSEC_STORE is given.
inline constexpr char kSystemStorePath[] = "/var/lib/comsec/store.db";

std::string StorePath(const GlobalOptions& global);

// Opens an existing store; a missing store is HRESULT_NOT_FOUND with the
// advice to run 'comcfg init'.
Result<std::unique_ptr<config::Store>> OpenStore(const GlobalOptions& global);

// Maps a failed Status to comcfg's exit status: not found is 1, bad input
// 2, anything else (I/O, busy) 2 as well, with the message on stderr.
int ReportFailure(const Io& io, const Status& status);

}  // namespace comsec::comcfg
