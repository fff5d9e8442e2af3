// AWS public components (names under the reserved "aws." prefix) as dependencies: each is
// either provided by vqi-agent itself or refused with the reason; none is dropped silently.
// The table is docs/design/component.md, "AWS public components".
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::component {

enum class AwsSupport {
  kNotAws,    // not an AWS public component: resolve it like any other
  kProvided,  // vqi-agent provides it: the resolver skips the dependency
  kRefused,   // vqi cannot provide it: resolution fails with `note`
};

struct AwsComponent {
  AwsSupport support = AwsSupport::kNotAws;
  std::string note;  // kProvided: the vqi feature; kRefused: why
};

// Exact names first, then families (aws.greengrass.clientdevices.*, ...), then any other
// "aws." name (refused as unknown). Thread-safe.
AwsComponent LookupAwsComponent(std::string_view name);

// OK for kNotAws and kProvided; FailedPrecondition for kRefused:
// "<requirer> depends on <name>, which vqi does not provide: <why>".
Status CheckAwsDependency(std::string_view requirer, std::string_view name);

}  // namespace vqi::component
