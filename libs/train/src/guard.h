// The libs/train adapter boundary: third-party exceptions (libtorch's c10::Error, OpenCV's
// cv::Exception, std::system_error when a worker thread cannot be started, std::bad_alloc)
// become Status values. Private to libs/train; every public entry point that runs libtorch
// goes through Guarded().
#pragma once

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <new>
#include <opencv2/core.hpp>
#include <string>
#include <system_error>

#include "vqi/base/status.h"

namespace vqi::train {

// f() (a Status or Result), or the exception it threw as a Status whose message starts with
// `what`: ResourceExhausted for memory and threads, Internal for the rest.
template <class F>
auto Guarded(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::OutOfMemoryError& e) {
    return ResourceExhausted(what + ": out of memory: " + e.what_without_backtrace());
  } catch (const c10::Error& e) {
    return Internal(what + ": libtorch: " + e.what_without_backtrace());
  } catch (const cv::Exception& e) {
    return Internal(what + ": OpenCV: " + e.what());
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::resource_unavailable_try_again)
      return ResourceExhausted(what + ": cannot start a worker thread: " + e.what());
    return Internal(what + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(what + ": out of memory");
  } catch (const std::exception& e) {
    return Internal(what + ": " + e.what());
  }
}

// Sets libtorch's intra-op thread count for the calling thread. With Debian's libtorch
// (OpenMP, libgomp) the count is libgomp's per-thread setting, but libtorch re-applies its
// process-wide default on a thread's first parallel op; reading the count first runs that
// initialisation, so the count set here stays this thread's. REQUIRES: 1 <= n <= kMaxThreads.
inline void SetTorchThreads(int n) {
  (void)at::get_num_threads();
  at::set_num_threads(n);
}

}  // namespace vqi::train
