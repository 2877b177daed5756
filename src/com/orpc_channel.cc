#include "comsec/com/orpc_channel.h"

#include <optional>
#include <thread>

#include "comsec/com/apartment.h"
#include "comsec/com/orpc_this_that.h"
#include "comsec/com/random_ids.h"

namespace comsec::com {

OrpcChannel::OrpcChannel(std::shared_ptr<rpc::Client> client, const Guid& iid,
                         const Guid& ipid, IUnknown* identity,
                         rpc::InterfaceMarshaler* marshaler,
                         std::shared_ptr<OxidClientSecurity> security,
                         std::shared_ptr<OxidConnections> connections)
    : client_(std::move(client)),
      security_(std::move(security)),
      connections_(std::move(connections)),
      syntax_(rpc::SyntaxId{iid, 0, 0}),
      ipid_(ipid),
      identity_(identity),
      marshaler_(marshaler) {
  if (security_) blanket_.Set(std::make_shared<const ProxyBlanket>(security_->default_blanket()));
}

OrpcChannel::OrpcChannel(std::unique_ptr<rpc::Client> client, const Guid& ipid,
                         IUnknown* identity)
    : client_(std::move(client)), ipid_(ipid), identity_(identity), marshaler_(nullptr) {}

Result<rpc::CallReply> OrpcChannel::Invoke(const Guid&, uint16_t opnum,
                                           std::span<const uint8_t> stub) {
  OrpcThis header;
  // A call made while serving another continues its causality.
  const Guid* serving = CausalityScope::current();
  header.cid = serving != nullptr ? *serving : RandomGuid();
  std::vector<uint8_t> request;
  request.reserve(32 + stub.size());
  EncodeOrpcThis(header, request);  // 32 bytes: the parameters stay 8-aligned
  request.insert(request.end(), stub.begin(), stub.end());
  rpc::CallOptions options;
  options.object = ipid_;
  options.syntax = syntax_;
  std::shared_ptr<rpc::Client> client = client_;
  // The association presenting the identity this call presents (R105):
  // a cloaked identity's own association, or the process's, where the
  // proxy's blanket picks the authentication context.
  // The blanket as it is now: a SetBlanket meanwhile is the next call's.
  const std::shared_ptr<const ProxyBlanket> blanket = security_ ? blanket_.Get() : nullptr;
  bool process_identity = true;
  if (connections_ && pinned_) {
    COMSEC_ASSIGN_OR_RETURN(client, connections_->ClientFor(*pinned_));
    process_identity = pinned_->process();
  } else if (connections_) {
    // The proxy's blanket's cloaking (R89), else the process's.
    const Cloaking mode =
        blanket ? CloakingOf(blanket->capabilities) : connections_->process_cloaking();
    COMSEC_ASSIGN_OR_RETURN(client, connections_->ForCall(mode, &cloak_));
    process_identity = client == connections_->process_client();
  }
  if (blanket && process_identity) {
    COMSEC_ASSIGN_OR_RETURN(CallRoute route, security_->Route(*blanket));
    client = std::move(route.client);
    options.auth_context_id = route.auth_context_id;
  }
  COMSEC_ASSIGN_OR_RETURN(rpc::CallReply reply,
                          Send(std::move(client), options, opnum, std::move(request)));
  COMSEC_ASSIGN_OR_RETURN(Decoded<OrpcThat> that, DecodeOrpcThat(reply.stub, reply.data_rep));
  reply.stub_offset = that.params_offset;
  return reply;
}

void OrpcChannel::BlanketChanged() {
  if (!connections_) return;
  const std::shared_ptr<const ProxyBlanket> blanket = blanket_.Get();
  if (CloakingOf(blanket->capabilities) == Cloaking::kStatic) {
    connections_->CaptureNow(&cloak_);
  } else {
    cloak_.Recapture();
  }
}

Result<rpc::CallReply> OrpcChannel::Send(std::shared_ptr<rpc::Client> client,
                                         const rpc::CallOptions& options, uint16_t opnum,
                                         std::vector<uint8_t> request) {
  Apartment* apartment = CurrentApartment();
  if (apartment == nullptr || apartment->kind() != ApartmentKind::kSta) {
    return client->CallForReply(options, opnum, request);
  }
  // COM's modal loop: an STA's thread must keep serving calls into its
  // apartment while it waits (the callee may call back into it), so the
  // blocking call runs on a thread of its own. A thread per call, not a
  // pool: nested callbacks each wait on one, and a bounded pool would
  // deadlock at its size.
  struct Slot {
    std::optional<Result<rpc::CallReply>> reply;
  };
  auto slot = std::make_shared<Slot>();
  ModalWait wait;
  std::thread([client = std::move(client), options, opnum, request = std::move(request), slot,
               done = wait.Completer()] {
    slot->reply.emplace(client->CallForReply(options, opnum, request));
    done();
  }).detach();
  wait.Wait();
  return std::move(*slot->reply);
}

}  // namespace comsec::com
