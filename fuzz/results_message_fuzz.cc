// libFuzzer: a results message from a device (libs/results ParseResultMessage), as the server
// receives it on vqi/v1/results/cam-1/vqi.inspect. Invariants: an accepted result names the
// topic's thing and component, its id starts with "cam-1:", its verdict is one of three, and
// the payload is kept byte for byte. The same bytes as a drift alert on .../drift
// (ParseDriftMessage): an accepted one names the topic's thing, and its state agrees with alert.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "vqi/results/drift_message.h"
#include "vqi/results/result_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = vqi::results::ParseResultMessage("vqi/v1/results/cam-1/vqi.inspect", text);
  if (r.ok()) {
    if (r->thing != "cam-1" || r->component != "vqi.inspect" || r->id.rfind("cam-1:", 0) != 0 ||
        (r->verdict != "pass" && r->verdict != "fail" && r->verdict != "error") ||
        r->payload != text)
      std::abort();
    if (r->drift && !(r->drift->score >= 0)) std::abort();
  }
  vqi::results::SubKindMessage m{"vqi/v1/results/cam-1/vqi.inspect/drift",
                                 "cam-1",
                                 "vqi.inspect",
                                 "drift",
                                 std::string(text),
                                 0};
  auto d = vqi::results::ParseDriftMessage(m);
  if (d.ok() && (d->thing != "cam-1" || d->id.rfind("cam-1:", 0) != 0 ||
                 d->raised != d->drift.alert || d->payload != text))
    std::abort();
  return 0;
}
