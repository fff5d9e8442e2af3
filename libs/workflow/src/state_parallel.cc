// Parallel: every branch runs concurrently (bounded by the worker limiter) on the same
// input; the result is the array of branch outputs in branch order. The first failing
// branch fails the state with its error and stops the others.
#include "interp.h"

namespace vqi::workflow {

Step ExecuteParallel(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  return RunAttempts(env, sc, [&](int attempt) -> Step {
    Json branch_input;
    const JsonField& params =
        st.query_language == QueryLanguage::kJsonata ? st.arguments : st.parameters;
    if (auto f = ApplyParameters(
            env, sc, params,
            st.query_language == QueryLanguage::kJsonata ? "Arguments" : "Parameters", eff,
            &branch_input))
      return Step::Fail(*f);
    int64_t started =
        env.AddEvent("ParallelStateStarted", sc.frame->previous_event, Json::object());
    size_t n = st.branches.size();
    std::vector<Step> results(n);
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::optional<size_t> first_failure;
    RunConcurrently(
        env, n, 0,
        [&](size_t i) {
          Frame frame;
          frame.key = sc.key + "@" + std::to_string(attempt) + "/b" + std::to_string(i);
          frame.variables = sc.frame->variables;
          frame.previous_event = started;
          frame.stop = &failed;
          frame.parent = sc.frame;
          results[i] = RunMachine(env, *st.branches[i], branch_input, frame);
          if (results[i].failure) {
            std::lock_guard<std::mutex> lock(mu);
            if (!first_failure) first_failure = i;
            failed = true;
          }
        },
        [] { return false; });
    if (first_failure) {
      env.AddEvent("ParallelStateFailed", started, Json::object());
      return Step::Fail(*results[*first_failure].failure);
    }
    Json out = Json::array();
    for (Step& r : results) out.push_back(std::move(r.output));
    sc.frame->previous_event = env.AddEvent("ParallelStateSucceeded", started, Json::object());
    return CompleteWith(env, sc, std::move(out));
  });
}

}  // namespace vqi::workflow
