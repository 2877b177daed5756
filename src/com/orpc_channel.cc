#include "comsec/com/orpc_channel.h"

#include "comsec/com/orpc_this_that.h"
#include "comsec/com/random_ids.h"

namespace comsec::com {

OrpcChannel::OrpcChannel(std::shared_ptr<rpc::Client> client, const Guid& iid,
                         const Guid& ipid, IUnknown* identity,
                         rpc::InterfaceMarshaler* marshaler)
    : client_(std::move(client)),
      syntax_(rpc::SyntaxId{iid, 0, 0}),
      ipid_(ipid),
      identity_(identity),
      marshaler_(marshaler) {}

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
  COMSEC_ASSIGN_OR_RETURN(rpc::CallReply reply, client_->CallForReply(options, opnum, request));
  COMSEC_ASSIGN_OR_RETURN(Decoded<OrpcThat> that, DecodeOrpcThat(reply.stub, reply.data_rep));
  reply.stub_offset = that.params_offset;
  return reply;
}

}  // namespace comsec::com
