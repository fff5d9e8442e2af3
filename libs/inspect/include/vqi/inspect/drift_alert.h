// The drift alert as messages: besides every result's `drift` field, the device publishes one
// `vqi.inspect.drift/1` message when its alert state changes (raised: the score went over 1;
// cleared: it came back), on vqi/v1/results/<thing>/<component>/drift, so the server (and any
// subscriber) sees an alert without reading every result. docs/design/inspect.md, "Drift
// monitor", documents the message.
//
// Thread-compatible (the Inspector's thread).
#pragma once

#include <optional>
#include <string>

#include "vqi/base/json.h"
#include "vqi/inspect/result.h"

namespace vqi::inspect {

inline constexpr const char* kDriftSchema = "vqi.inspect.drift/1";

struct DriftAlertMessage {
  std::string topic;  // vqi/v1/results/<thing>/<component>/drift
  std::string id;     // "<result id>:drift": the idempotency key (same image, same message)
  OrderedJson message;
};

// vqi/v1/results/<thing>/<component>/drift ("unknown" for an empty thing, as the result topic).
std::string DriftAlertTopic(const std::string& thing, const std::string& component);

class DriftAlertTracker {
 public:
  // The message to publish when `result`'s drift report changes the alert state, else nullopt
  // (no report, or the same state). The state starts cleared, so a device whose inputs look
  // like the training split publishes nothing; it survives model reloads (the new monitor's
  // first report decides whether a raised alert clears).
  std::optional<DriftAlertMessage> Update(const InspectResult& result);
  bool raised() const { return raised_; }

 private:
  bool raised_ = false;
};

}  // namespace vqi::inspect
