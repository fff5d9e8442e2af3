// libFuzzer: an upload from a device (libs/results ParseUploadMessage), as the server receives
// it on vqi/v1/results/cam-1/vqi.inspect/upload. Invariants: an accepted upload names the
// topic's thing and component, its bytes hash to its sha256 and are within the file limit, it
// carries a message id, its result id (when given) is cam-1's and its best score is -1 or in
// [0, 1].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vqi/base/hash.h"
#include "vqi/results/upload_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto u = vqi::results::ParseUploadMessage("vqi/v1/results/cam-1/vqi.inspect/upload", text, 4096);
  if (u.ok()) {
    if (u->thing != "cam-1" || u->component != "vqi.inspect" || u->bytes.size() > 4096 ||
        vqi::Sha256Hex(u->bytes) != u->sha256 || u->message_id.empty() ||
        (!u->result_id.empty() && u->result_id.rfind("cam-1:", 0) != 0) ||
        !(u->best_score == -1 || (u->best_score >= 0 && u->best_score <= 1)))
      std::abort();
  }
  return 0;
}
