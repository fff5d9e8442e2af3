// UTC RFC 3339 timestamps (`2026-12-06T06:30:00Z`), the form every vqi store records.
#pragma once

#include <string>

namespace vqi::server {

std::string NowRfc3339();

}  // namespace vqi::server
