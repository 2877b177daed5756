#include "comsec/com/coinit.h"

#include <memory>
#include <optional>

#include "comsec/com/apartment.h"

namespace comsec::com {
namespace {

constexpr uint32_t kKnownFlags = COINIT_APARTMENTTHREADED | COINIT_DISABLE_OLE1DDE |
                                 COINIT_SPEED_OVER_MEMORY;

// What CoInitializeEx did on this thread.
struct ThreadInit {
  ComRuntime* runtime = nullptr;
  uint32_t count = 0;
  bool sta = false;
  std::unique_ptr<StaApartment> apartment;  // an STA's
  std::optional<ApartmentScope> mta;        // an MTA thread's

  void Leave() {
    if (apartment) {
      runtime->exporter().DisconnectApartment(apartment.get());
      apartment->Shutdown();
      apartment.reset();
    }
    mta.reset();
    runtime = nullptr;
    count = 0;
  }
  ~ThreadInit() {
    if (count != 0 && runtime != nullptr) Leave();
  }
};

thread_local ThreadInit this_thread_init;

}  // namespace

HResult CoInitializeEx(ComRuntime& runtime, uint32_t coinit) {
  if ((coinit & ~kKnownFlags) != 0) return E_INVALIDARG;
  const bool sta = (coinit & COINIT_APARTMENTTHREADED) != 0;
  ThreadInit& t = this_thread_init;
  if (t.count != 0) {
    if (t.sta != sta || t.runtime != &runtime) return RPC_E_CHANGED_MODE;
    ++t.count;
    return S_FALSE;
  }
  // A thread the runtime made (its MTA's pool) is already in an apartment.
  Apartment* current = CurrentApartment();
  if (current != nullptr) {
    if (current->kind() == ApartmentKind::kSta || sta) return RPC_E_CHANGED_MODE;
  }
  if (sta) {
    auto made = StaApartment::ForCurrentThread();
    if (!made.ok()) return RPC_E_CHANGED_MODE;
    t.apartment = std::move(*made);
  } else if (current == nullptr) {
    t.mta.emplace(runtime.exporter().mta());
  }
  t.runtime = &runtime;
  t.sta = sta;
  t.count = 1;
  return HResult(0);
}

void CoUninitialize() {
  ThreadInit& t = this_thread_init;
  if (t.count == 0) return;
  if (--t.count == 0) t.Leave();
}

size_t CoPumpPending() {
  ThreadInit& t = this_thread_init;
  return t.apartment ? t.apartment->RunPending() : 0;
}

}  // namespace comsec::com
