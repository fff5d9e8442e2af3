// vqi results tail|stats: inspection results the server received (libs/results,
// docs/design/results.md), read from <home>/results/results.db. `tail --follow` polls the store,
// so it works while `vqi server --mqtt` writes it from another process (SQLite WAL).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/results/store.h"

namespace vqi::cli {
namespace {

namespace rs = vqi::results;

struct ResultsFlags {
  std::string thing, verdict, since;
  int limit = 20;
  int64_t after = -1;
  bool follow = false;
  int interval_ms = 200;
  bool json = false;
};

Result<std::unique_ptr<rs::ResultStore>> OpenStore(const Context& ctx, bool create) {
  const std::string path = rs::ResultsDbPath(ctx.home);
  if (!create && !FileExists(path))
    return NotFound("no results received yet: " + path +
                    " does not exist (results arrive while `vqi server --mqtt` runs)");
  rs::ResultStoreOptions o;
  o.create = create;
  return rs::OpenSqliteResultStore(path, o);
}

std::string Ms(double v) {
  if (v < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

void PrintResult(const rs::StoredResult& r, bool json) {
  if (json) {
    std::cout << rs::StoredResultToJson(r).dump() << "\n";
  } else {
    std::string model = r.model_name + (r.model_version.empty() ? "" : "@" + r.model_version);
    std::printf("%-8lld %-24s %-24s %-6s%s %-24s %-28s model %s ms\n",
                static_cast<long long>(r.seq), r.received.c_str(), r.thing.c_str(),
                r.verdict.c_str(), r.uncertain ? "?" : " ", model.c_str(), r.image_name.c_str(),
                Ms(r.model_ms).c_str());
  }
  std::fflush(stdout);
}

Status RunTail(const Context& ctx, const ResultsFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, /*create=*/f.follow));
  rs::ResultQuery q;
  q.thing = f.thing;
  q.verdict = f.verdict;
  q.limit = f.limit;
  if (!f.since.empty()) {
    auto since = rs::ParseRfc3339Ms(f.since);
    if (!since.ok()) return since.status().WithContext("--since");
    q.since_ms = *since;
  }
  const bool json = ctx.json || f.json;
  int64_t cursor = 0;
  if (f.after >= 0) {
    q.after_seq = f.after;
    VQI_ASSIGN_OR_RETURN(auto rows, store->After(q));
    for (const auto& r : rows) PrintResult(r, json);
    cursor = rows.empty() ? f.after : rows.back().seq;
  } else {
    VQI_ASSIGN_OR_RETURN(auto rows, store->Recent(q));  // newest first
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) PrintResult(*it, json);
    VQI_ASSIGN_OR_RETURN(cursor, store->LastSequence());
  }
  if (!f.follow) return Status::Ok();
  q.limit = 1000;
  for (;;) {  // until interrupted (SIGINT/SIGTERM end the process)
    q.after_seq = cursor;
    auto rows = store->After(q);
    if (!rows.ok()) {
      if (rows.status().code() != StatusCode::kUnavailable) return rows.status();
    } else {
      for (const auto& r : *rows) PrintResult(r, json);
      if (!rows->empty()) cursor = rows->back().seq;
      if (rows->size() == static_cast<size_t>(q.limit)) continue;  // more waiting
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(f.interval_ms));
  }
}

Status RunStats(const Context& ctx, const ResultsFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, /*create=*/false));
  std::vector<rs::ThingCounters> all;
  if (!f.thing.empty()) {
    VQI_ASSIGN_OR_RETURN(auto c, store->Counters(f.thing));
    all.push_back(std::move(c));
  } else {
    VQI_ASSIGN_OR_RETURN(all, store->AllCounters());
  }
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const auto& c : all) out.push_back(rs::ThingCountersToJson(c));
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::printf("%-24s %7s %7s %7s %7s %9s %5s %7s %9s %9s %-12s %-24s %s\n", "THING", "IMAGES",
              "PASS", "FAIL", "ERROR", "UNCERTAIN", "DUP", "REFUSED", "MEAN MS", "P95 MS", "DRIFT",
              "LAST SEEN", "MODEL");
  for (const auto& c : all) {
    std::string model =
        c.last_model_name + (c.last_model_version.empty() ? "" : "@" + c.last_model_version);
    // The last drift score (1 = the alert threshold), "ALERT" while the alert is raised.
    char drift[32] = "-";
    if (c.drift_score >= 0)
      std::snprintf(drift, sizeof drift, "%.2f%s", c.drift_score, c.drift_alert ? " ALERT" : "");
    std::printf("%-24s %7lld %7lld %7lld %7lld %9lld %5lld %7lld %9s %9s %-12s %-24s %s\n",
                c.thing.c_str(), static_cast<long long>(c.images), static_cast<long long>(c.pass),
                static_cast<long long>(c.fail), static_cast<long long>(c.error),
                static_cast<long long>(c.uncertain), static_cast<long long>(c.duplicates),
                static_cast<long long>(c.refused), Ms(c.mean_model_ms).c_str(),
                Ms(c.p95_model_ms).c_str(), drift, c.last_seen.c_str(), model.c_str());
  }
  for (const auto& c : all)
    if (c.drift_alert)
      std::printf("drift alert on %s: %s %.2f over a window of %lld images (raised at %s)\n",
                  c.thing.c_str(), c.drift_feature.c_str(), c.drift_score,
                  static_cast<long long>(c.drift_window), c.drift_alert_changed.c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& noun = Noun(app, "results", "Inspection results received from devices");
  auto f = std::make_shared<ResultsFlags>();
  auto* tail = noun.add_subcommand(
      "tail",
      "Print the most recent results (oldest first); --follow prints new ones as they come");
  tail->add_option("--thing", f->thing, "only this thing")->check(NonEmpty());
  tail->add_option("--verdict", f->verdict, "only this verdict")
      ->check(CLI::IsMember({"pass", "fail", "error"}));
  tail->add_option("--since", f->since, "received at or after (RFC 3339 UTC)")->check(NonEmpty());
  tail->add_option("--limit", f->limit, "how many recent results first (default 20)")
      ->check(InRange(1, 10000));
  tail->add_option("--after", f->after, "results after this sequence number (a cursor)")
      ->check(InRange(int64_t{0}, int64_t{9007199254740991}));
  tail->add_flag("--follow,-f", f->follow, "keep printing new results until interrupted");
  tail->add_option("--interval-ms", f->interval_ms, "poll interval of --follow (default 200)")
      ->check(InRange(10, 60000));
  tail->add_flag("--json", f->json,
                 "one JSON result per line (the device's result + seq, received)");
  tail->callback([&ctx, f] { Exit(RunTail(ctx, *f)); });
  auto* stats = noun.add_subcommand("stats", "Per-thing counters: images, verdicts, timings");
  stats->add_option("--thing", f->thing, "only this thing")->check(NonEmpty());
  stats->add_flag("--json", f->json, "machine-readable output");
  stats->callback([&ctx, f] { Exit(RunStats(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
