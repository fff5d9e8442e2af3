// vqi-fetch-min BUNDLE ROOT NAME VERSION: fetches one component the way the agent does and
// prints what it verified, as JSON, with the transfer counters. Exit 0, or 1 with the error on
// stderr. A development tool and the subject of fetch_link_test.sh (what the device side links).
#include <cstdio>
#include <string>

#include "vqi/agent/fetch.h"
#include "vqi/agent/fetch_bundle.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s BUNDLE ROOT NAME VERSION\n", argv[0]);
    return 2;
  }
  using namespace vqi::agent;
  auto setup = FetchSetupFromBundle(argv[1], argv[2]);
  if (!setup.ok()) {
    std::fprintf(stderr, "%s\n", setup.status().ToString().c_str());
    return 1;
  }
  auto fetcher = ComponentFetcher::Create(setup->options, setup->trusted);
  if (!fetcher.ok()) {
    std::fprintf(stderr, "%s\n", fetcher.status().ToString().c_str());
    return 1;
  }
  auto c = (*fetcher)->Fetch(argv[3], argv[4]);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    return 1;
  }
  vqi::Json arts = vqi::Json::array();
  for (const auto& a : c->artifacts)
    arts.push_back({{"name", a.name},
                    {"digest", a.digest},
                    {"size", a.size},
                    {"path", a.path},
                    {"from_cache", a.from_cache}});
  const FetchCounters& n = (*fetcher)->counters();
  vqi::Json out = {{"name", c->name},
                   {"version", c->version},
                   {"publisher", c->publisher},
                   {"key_id", c->key_id},
                   {"artifacts", arts},
                   {"counters",
                    {{"bytes_downloaded", n.bytes_downloaded},
                     {"bytes_from_cache", n.bytes_from_cache},
                     {"requests", n.requests},
                     {"retries", n.retries}}}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
