// The drift alert message (`vqi.inspect.drift/1`, docs/design/inspect.md "Drift monitor"): a
// device publishes one on vqi/v1/results/<thing>/<component>/drift when its drift alert is
// raised or cleared. Parsed defensively here; the "drift" sub-kind handler stores it in the
// results store (the thing's counters keep the alert state; docs/design/results.md "Drift").
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/results/ingest.h"
#include "vqi/results/result_message.h"

namespace vqi::results {

// InvalidArgument naming the field for anything but a valid message from the topic's thing and
// component (PermissionDenied when the payload names another thing or component);
// ResourceExhausted above kMaxDriftMessageBytes.
Result<ParsedDrift> ParseDriftMessage(const SubKindMessage& m);

// The "drift" sub-kind handler over its own connection to `store` (one batch = one transaction;
// duplicates by id are answered kDuplicate). Plugged in by `vqi server --mqtt` through
// IngestOptions::sub_handlers[topics::kDriftSub].
std::shared_ptr<SubKindHandler> MakeDriftHandler(std::shared_ptr<ResultStore> store);

}  // namespace vqi::results
