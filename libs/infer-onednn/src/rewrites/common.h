// Helpers shared by the graph rewrites (src/rewrites/*.cc). Private to the backend.
#pragma once

#include "graph.h"

namespace vqi::infer::onednn::rewrites {

// Every live node (inputs and post-op addends) reading `from` reads `to` instead.
void ReplaceUses(Graph* g, int from, int to);

// True if `t` is a tensor computed at run time (not absent, not a constant).
inline bool IsRuntime(const Graph& g, int t) { return t >= 0 && !g.tensors[t].is_const; }

// The live node producing `t`, or null (graph input, constant, absent).
const Node* ProducerOf(const Graph& g, int t);

// True if `t` is the contiguous part [*start, *start + *count) of `*src` along `axis`: an
// output of a Split on `axis`, or a Slice that cuts only `axis` with step 1.
bool PartOf(const Graph& g, int t, int64_t axis, int* src, int64_t* start, int64_t* count);

}  // namespace vqi::infer::onednn::rewrites
