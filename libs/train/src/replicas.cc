#include "replicas.h"

#include "guard.h"

namespace vqi::train {

Yolo MakeReplica(Yolo& base) {
  Yolo r(base->config());
  torch::NoGradGuard ng;
  auto bp = base->named_parameters();
  for (auto& p : r->named_parameters()) {
    const torch::Tensor& src = bp[p.key()];
    p.value().set_data(src.data());
    p.value().set_requires_grad(src.requires_grad());
  }
  r->train(base->is_training());
  CopyBuffers(base, r);
  return r;
}

bool SharesParameters(Yolo& base, Yolo& replica) {
  auto bp = base->parameters(), rp = replica->parameters();
  if (bp.size() != rp.size()) return false;
  for (size_t i = 0; i < bp.size(); ++i)
    if (bp[i].data_ptr() != rp[i].data_ptr()) return false;
  return true;
}

void CopyBuffers(Yolo& base, Yolo& replica) {
  torch::NoGradGuard ng;
  auto bb = base->named_buffers();
  for (auto& b : replica->named_buffers()) b.value().copy_(bb[b.key()]);
}

void AddGradients(Yolo& base, Yolo& replica) {
  torch::NoGradGuard ng;
  auto bp = base->parameters(), rp = replica->parameters();
  for (size_t i = 0; i < bp.size(); ++i) {
    const torch::Tensor& g = rp[i].grad();
    if (!g.defined()) continue;
    if (bp[i].grad().defined())
      bp[i].mutable_grad().add_(g);
    else
      bp[i].mutable_grad() = g.clone();
  }
}

ReplicaThread::ReplicaThread(int torch_threads)
    : thread_([this, torch_threads] { Loop(torch_threads); }) {}

ReplicaThread::~ReplicaThread() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReplicaThread::Start(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    task_ = std::move(task);
    busy_ = true;
    error_ = nullptr;
  }
  cv_.notify_all();
}

void ReplicaThread::Wait() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return !busy_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void ReplicaThread::Loop(int torch_threads) {
  SetTorchThreads(torch_threads);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return busy_ || stop_; });
    if (stop_) return;
    auto task = std::move(task_);
    l.unlock();
    std::exception_ptr err;
    try {
      task();
    } catch (...) {
      err = std::current_exception();
    }
    l.lock();
    error_ = err;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace vqi::train
