// Federation messages (app/messages.h) on any bytes: ParseMessage accepts
// only a canonical body whose every field is valid, and the same bytes as
// the body of POST /federation/v1/messages/batch go through the route's
// shape check and ParseMessageBatch, whose batches FormatMessageBatch
// writes back to what parses to the same batch. Signatures are checked
// against a fixed key without crashing.

#include "app/messages.h"
#include "app/node.h"
#include "base/json_writer.h"
#include "fuzz/fuzz_util.h"
#include "ledger/custody_entry.h"
#include "server/request_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  static const Ed25519PrivateKey key =
      Ed25519PrivateKey::FromSeed(Bytes(32, 0x33)).value();
  std::string_view body = fuzz::AsText(data, size);

  Result<Message> m = ParseMessage(body);
  if (m.ok()) {
    FUZZ_CHECK(m->body == body);
    FUZZ_CHECK(ValidateMessageType(m->type).ok());
    FUZZ_CHECK(ValidateNodeName(m->from).ok() && ValidateNodeName(m->to).ok());
    FUZZ_CHECK(ParseTime(m->time).ok());
    FUZZ_CHECK(m->payload.is_object());
    std::string again;
    AppendJson(&again, nlohmann::json::parse(body));
    FUZZ_CHECK(again == body);
    std::string sig = SignMessageBody(body, key);
    FUZZ_CHECK(VerifyMessageBody(body, sig, key.public_key()).ok());
  } else {
    FUZZ_CHECK(m.status().code() == Code::kInvalidInput ||
               m.status().code() == Code::kTooLarge);
  }

  Result<nlohmann::json> j =
      ParseJsonBody("application/json", body, body::kMessageBatch);
  if (!j.ok()) return 0;
  Result<std::vector<SignedMessage>> batch = ParseMessageBatch(*j);
  if (!batch.ok()) {
    FUZZ_CHECK(batch.status().code() == Code::kInvalidInput);
    return 0;
  }
  FUZZ_CHECK(!batch->empty() && batch->size() <= kMaxBatchMessages);
  std::string formatted = FormatMessageBatch(*batch);
  Result<std::vector<SignedMessage>> again =
      ParseMessageBatch(nlohmann::json::parse(formatted));
  FUZZ_CHECK(again.ok() && again->size() == batch->size());
  for (size_t i = 0; i < batch->size(); ++i) {
    const SignedMessage& s = (*batch)[i];
    FUZZ_CHECK((*again)[i].body == s.body &&
               (*again)[i].signature == s.signature);
    Status v = VerifyMessageBody(s.body, s.signature, key.public_key());
    FUZZ_CHECK(v.code() == Code::kPermission);
    Result<Message> inner = ParseMessage(s.body);
    FUZZ_CHECK(inner.ok() || inner.status().code() == Code::kInvalidInput ||
               inner.status().code() == Code::kTooLarge);
  }
  return 0;
}
