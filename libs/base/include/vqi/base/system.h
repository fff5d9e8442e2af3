// Facts about the host and the vqi home directory.
#pragma once

#include <string>

namespace vqi {

// CPUs this process may run on (sched affinity), at least 1.
int HardwareThreads();

// The vqi home: `flag` if non-empty, else $VQI_HOME, else ~/.vqi.
std::string ResolveHome(const std::string& flag);

// The shared test data folder ($VQI_SHARED_DIR, else <source>/../shared), or "" if absent.
std::string SharedDir();

}  // namespace vqi
