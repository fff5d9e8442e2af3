// Inspection results over HTTP (read scope): what devices published on
// vqi/v1/results/<thing>/<component>, kept by libs/results (docs/design/results.md;
// docs/api.md "Results").
//
//   GET /v1/results?thing=&verdict=&since=&after=&limit=
//       without `after`: the newest `limit` (default 100) results, newest first;
//       with `after=SEQ`: the results after that sequence number, oldest first (a cursor:
//       pass the last `seq` seen). Each result is the device's document plus `seq`, `received`.
//   GET /v1/things/{name}/results/stats   the thing's counters (404 before its first result)
#include <charconv>

#include "context.h"
#include "vqi/results/store.h"

namespace vqi::server {
namespace {

using ResultStoreLocked = Locked<results::ResultStore>;

// An optional non-negative integer query parameter in [lo, hi].
Result<int64_t> IntParam(const httplib::Request& req, const char* name, int64_t def, int64_t lo,
                         int64_t hi) {
  if (!req.has_param(name)) return def;
  const std::string v = req.get_param_value(name);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || out < lo || out > hi)
    return InvalidArgument(std::string("query parameter ") + name + ": '" + v.substr(0, 40) +
                           "' is not an integer in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  return out;
}

Result<results::ResultQuery> QueryOf(const httplib::Request& req) {
  results::ResultQuery q;
  q.thing = req.get_param_value("thing");
  q.verdict = req.get_param_value("verdict");
  if (req.has_param("since")) {
    auto since = results::ParseRfc3339Ms(req.get_param_value("since"));
    if (!since.ok()) return since.status().WithContext("query parameter since");
    q.since_ms = *since;
  }
  VQI_ASSIGN_OR_RETURN(int64_t limit, IntParam(req, "limit", 100, 1, 10000));
  q.limit = static_cast<int>(limit);
  VQI_ASSIGN_OR_RETURN(q.after_seq, IntParam(req, "after", -1, 0, int64_t{1} << 53));
  return q;
}

}  // namespace

Status AddResultsRoutes(Router& router, ServerContext& ctx) {
  VQI_ASSIGN_OR_RETURN(auto opened,
                       results::OpenSqliteResultStore(results::ResultsDbPath(ctx.options.home)));
  auto store = std::make_shared<ResultStoreLocked>(std::move(opened));
  ctx.resources.push_back(store);
  ResultStoreLocked* s = store.get();
  router.Add({"GET",
              "/v1/results",
              Access::kRead,
              Body::kNone,
              "results",
              "Inspection results received from devices (newest first; with after=SEQ the "
              "ones after that sequence, oldest first)",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                VQI_ASSIGN_OR_RETURN(results::ResultQuery q, QueryOf(c.req));
                const bool cursor = q.after_seq >= 0;
                if (!cursor) q.after_seq = 0;
                VQI_ASSIGN_OR_RETURN(auto rows, s->With([&](results::ResultStore& st) {
                  return cursor ? st.After(q) : st.Recent(q);
                }));
                VQI_ASSIGN_OR_RETURN(int64_t last, s->With([](results::ResultStore& st) {
                  return st.LastSequence();
                }));
                Json arr = Json::array();
                for (const auto& r : rows) arr.push_back(results::StoredResultToJson(r));
                c.Reply(200, Json{{"results", arr}, {"last_seq", last}});
                return Status::Ok();
              }});
  router.Add({"GET",
              "/v1/things/{name}/results/stats",
              Access::kRead,
              Body::kNone,
              "results",
              "A thing's result counters: images, verdicts, uncertain, duplicates, refused, "
              "inference time mean and p95, last model",
              200,
              nullptr,
              {{"type", "object"}},
              [s](Call& c) -> Status {
                const std::string name = c.Param("name");
                VQI_ASSIGN_OR_RETURN(auto counters, s->With([&](results::ResultStore& st) {
                  return st.Counters(name);
                }));
                c.Reply(200, results::ThingCountersToJson(counters));
                return Status::Ok();
              }});
  return Status::Ok();
}

}  // namespace vqi::server
