// libFuzzer: a results message from a device (libs/results ParseResultMessage), as the server
// receives it on vqi/v1/results/cam-1/vqi.inspect. Invariants: an accepted result names the
// topic's thing and component, its id starts with "cam-1:", its verdict is one of three, and
// the payload is kept byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vqi/results/result_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = vqi::results::ParseResultMessage("vqi/v1/results/cam-1/vqi.inspect", text);
  if (r.ok()) {
    if (r->thing != "cam-1" || r->component != "vqi.inspect" || r->id.rfind("cam-1:", 0) != 0 ||
        (r->verdict != "pass" && r->verdict != "fail" && r->verdict != "error") ||
        r->payload != text)
      std::abort();
  }
  return 0;
}
