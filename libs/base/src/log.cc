#include "vqi/base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace vqi {

void InitLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = spdlog::stderr_color_mt("vqi");
    logger->set_pattern("%^%L%$ %H:%M:%S.%e %v");
    spdlog::set_default_logger(logger);
    const char* env = std::getenv("VQI_LOG");
    spdlog::set_level(env ? spdlog::level::from_str(env) : spdlog::level::info);
  });
}

}  // namespace vqi
