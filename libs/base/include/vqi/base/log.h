// Logging: spdlog, to stderr. Level from VQI_LOG (trace|debug|info|warn|error|off), default info.
#pragma once

#include <spdlog/spdlog.h>

namespace vqi {

// Idempotent; call once from main().
void InitLogging();

}  // namespace vqi

#define VQI_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define VQI_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define VQI_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define VQI_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
