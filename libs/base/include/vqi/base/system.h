// Facts about the host and the vqi home directory.
#pragma once

#include <string>

#include "vqi/base/status.h"

namespace vqi {

// The most threads any one engine instance (a trainer, an inference backend) may be given.
// Above the largest common servers (2 x 128 cores); each thread reserves a stack, and
// `--threads 65535` used to crash inside libgomp. docs/limits.md.
inline constexpr int kMaxThreads = 256;

// CPUs this process may run on (sched affinity), at least 1 and at most kMaxThreads.
int HardwareThreads();

// OK when 1 <= n <= kMaxThreads; otherwise ResourceExhausted (too many) or InvalidArgument
// (zero or negative), naming `what` (e.g. "--threads") and the accepted range.
Status CheckThreadCount(int n, const std::string& what);

// The vqi home: `flag` if non-empty, else $VQI_HOME (if non-empty), else ~/.vqi. Callers that
// take the flag from a user refuse an explicitly empty flag before calling this.
std::string ResolveHome(const std::string& flag);

// The shared test data folder ($VQI_SHARED_DIR, else <source>/../shared), or "" if absent.
std::string SharedDir();

}  // namespace vqi
