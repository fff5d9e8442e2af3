// Data-parallel replicas of the training model inside one process (docs/design/training.md,
// "End-to-end throughput"): the batch is split across R replicas, each runs forward, loss and
// backward on its part on its own thread with its own (smaller) libtorch thread count, and
// the gradients are summed in a fixed order into the base model, which the optimizer steps.
// As in PyTorch's DistributedDataParallel, BatchNorm normalises each part with its own batch
// statistics and the running statistics are the base model's (copied to the other replicas
// before every step, DDP's buffer broadcast). Private to libs/train.
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "yolo.h"

namespace vqi::train {

// A replica of `base` whose parameters share storage with base's (in-place optimizer updates
// of base are seen by the replica; its gradients are its own) and whose buffers are copies.
// REQUIRES: base's parameters keep their storage from now on (no set_data/load on them).
Yolo MakeReplica(Yolo& base);

// True when every parameter of `replica` still shares storage with base's (a cheap guard
// against a later set_data or load on base).
bool SharesParameters(Yolo& base, Yolo& replica);

// Copies base's buffers (BatchNorm running statistics) into the replica.
void CopyBuffers(Yolo& base, Yolo& replica);

// base.grad += replica.grad for every parameter with a gradient (a parameter without one in
// base takes the replica's). Deterministic: the caller fixes the order of replicas.
void AddGradients(Yolo& base, Yolo& replica);

// One persistent thread with its own libtorch intra-op thread count that runs one task at a
// time (so libtorch's per-thread state is set up once, not per step).
class ReplicaThread {
 public:
  explicit ReplicaThread(int torch_threads);
  ~ReplicaThread();
  ReplicaThread(const ReplicaThread&) = delete;
  ReplicaThread& operator=(const ReplicaThread&) = delete;

  // Starts `task` on the thread. REQUIRES: the previous task was waited for.
  void Start(std::function<void()> task);
  // Waits for the running task; rethrows its exception, if any.
  void Wait();

 private:
  void Loop(int torch_threads);

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace vqi::train
