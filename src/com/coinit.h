// CoInitializeEx and CoUninitialize: a thread enters an apartment of a
// process's COM runtime (com/com_runtime.h, com/apartment.h).
//
//   CoInitializeEx(runtime, COINIT_APARTMENTTHREADED);  // this thread: an STA
//   ... objects marshaled from this thread live in its STA; calls into them
//   ... run here while the thread pumps (CoPumpPending, or waits in an
//   ... outgoing call, COM's modal loop)
//   CoUninitialize();
//
// As COM counts them: the first call on a thread is S_OK, later calls in the
// same mode S_FALSE (each to be balanced by a CoUninitialize), a call in the
// other mode RPC_E_CHANGED_MODE (and nothing changes), unknown COINIT flags
// E_INVALIDARG; another runtime while initialized: RPC_E_CHANGED_MODE too.
// The last CoUninitialize leaves the apartment: an STA's objects are
// disconnected (calls to them then answer RPC_E_DISCONNECTED), work still
// queued for it is answered, and the thread is in no apartment again; an
// MTA thread simply leaves the MTA. A CoUninitialize without a matching
// CoInitializeEx does nothing, as on Windows.
//
// A thread that never calls CoInitializeEx is in the runtime's implicit
// MTA, as on Windows once some thread of the process is in the MTA (the
// runtime's own pool always is): it may marshal, unmarshal and call.
//
// Thread affinity: per thread. REQUIRES: the runtime outlives every thread's
// initialization; a thread that exits still initialized is uninitialized
// then.
#pragma once

#include <cstddef>
#include <cstdint>

#include "comsec/base/hresult.h"
#include "comsec/com/com_runtime.h"

namespace comsec::com {

inline constexpr uint32_t COINIT_MULTITHREADED = 0x0;
inline constexpr uint32_t COINIT_APARTMENTTHREADED = 0x2;
inline constexpr uint32_t COINIT_DISABLE_OLE1DDE = 0x4;
inline constexpr uint32_t COINIT_SPEED_OVER_MEMORY = 0x8;

HResult CoInitializeEx(ComRuntime& runtime, uint32_t coinit);
void CoUninitialize();
// An STA thread's message loop step: runs the calls queued for its
// apartment and returns how many ran; 0 on a thread that is not an STA's.
size_t CoPumpPending();

}  // namespace comsec::com
