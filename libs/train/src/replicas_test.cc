// Data-parallel replicas: shared parameters, copied buffers, summed gradients.
#include "replicas.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "loss.h"

namespace vqi::train {
namespace {

model::ModelConfig Tiny() {
  model::ModelConfig c;
  c.scale = "t";
  c.input_w = 64;
  c.input_h = 64;
  return c;
}

TEST(ReplicasTest, ParametersAreSharedAndBuffersCopied) {
  torch::manual_seed(0);
  Yolo base(Tiny());
  Yolo rep = MakeReplica(base);
  ASSERT_TRUE(SharesParameters(base, rep));
  // An in-place update of base (what the optimizer does) is seen by the replica.
  {
    torch::NoGradGuard ng;
    base->parameters()[0].add_(1.0);
  }
  EXPECT_TRUE(torch::equal(base->parameters()[0], rep->parameters()[0]));
  // Buffers are the replica's own: a training forward of base changes base's running stats
  // only, until they are copied.
  base->train();
  rep->train();
  base->forward(torch::rand({2, 3, 64, 64}));
  auto name = std::string("model.0.bn.running_mean");
  EXPECT_FALSE(torch::equal(base->named_buffers()[name], rep->named_buffers()[name]));
  CopyBuffers(base, rep);
  EXPECT_TRUE(torch::equal(base->named_buffers()[name], rep->named_buffers()[name]));
  // Replacing base's storage (as a load would) is detected.
  {
    torch::NoGradGuard ng;
    base->parameters()[0].set_data(base->parameters()[0].clone());
  }
  EXPECT_FALSE(SharesParameters(base, rep));
}

// The contract: after the parts ran on their replicas (in parallel) and AddGradients, the
// base model holds the gradient of the sum of the parts' losses, each part normalised by its
// own BatchNorm statistics: what one model gets from the two parts run one after the other.
TEST(ReplicasTest, SummedGradientsAreTheGradientOfThePartsLosses) {
  torch::manual_seed(1);
  Yolo base(Tiny());
  base->train();
  Yolo rep = MakeReplica(base);
  Yolo seq(Tiny());  // same weights, parts run sequentially
  {
    torch::NoGradGuard ng;
    auto sp = seq->parameters(), bp = base->parameters();
    for (size_t i = 0; i < sp.size(); ++i) sp[i].copy_(bp[i]);
  }
  seq->train();
  DetectionLoss loss_fn(Tiny());
  auto a = torch::rand({2, 3, 64, 64}), b = torch::rand({2, 3, 64, 64});
  auto ta = torch::tensor({{0.f, 0.f, 8.f, 8.f, 40.f, 30.f}, {1.f, 0.f, 20.f, 16.f, 60.f, 50.f}});
  auto tb = torch::tensor({{0.f, 0.f, 2.f, 30.f, 30.f, 60.f}, {1.f, 0.f, 10.f, 4.f, 50.f, 24.f}});

  auto la = loss_fn(seq->forward(a), ta), lb = loss_fn(seq->forward(b), tb);
  (la.total + lb.total).backward();

  ReplicaThread worker(1);
  worker.Start([&] { loss_fn(rep->forward(b), tb).total.backward(); });
  loss_fn(base->forward(a), ta).total.backward();
  worker.Wait();
  AddGradients(base, rep);

  auto sp = seq->parameters(), bp = base->parameters(), rp = rep->parameters();
  int compared = 0;
  for (size_t i = 0; i < sp.size(); ++i) {
    if (!sp[i].grad().defined()) continue;
    ASSERT_TRUE(bp[i].grad().defined()) << i;
    EXPECT_TRUE(torch::allclose(bp[i].grad(), sp[i].grad(), 1e-4, 1e-6))
        << i << ": norms " << bp[i].grad().norm().item<double>() << " vs "
        << sp[i].grad().norm().item<double>();
    ++compared;
  }
  EXPECT_GT(compared, 50);
  // The sum is not one part's gradient.
  EXPECT_FALSE(torch::allclose(bp[0].grad(), rp[0].grad(), 1e-3, 1e-5));
}

TEST(ReplicasTest, ThreadRunsTasksAndRethrows) {
  ReplicaThread t(1);
  std::atomic<int> n{0};
  for (int i = 0; i < 3; ++i) {
    t.Start([&] { ++n; });
    t.Wait();
  }
  EXPECT_EQ(n.load(), 3);
  t.Start([] { throw std::runtime_error("boom"); });
  EXPECT_THROW(t.Wait(), std::runtime_error);
  t.Start([&] { ++n; });  // still usable
  t.Wait();
  EXPECT_EQ(n.load(), 4);
}

}  // namespace
}  // namespace vqi::train
