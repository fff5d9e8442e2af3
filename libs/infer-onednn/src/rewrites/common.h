// Helpers shared by the graph rewrites (src/rewrites/*.cc). Private to the backend.
#pragma once

#include "graph.h"

namespace vqi::infer::onednn::rewrites {

// Every live node (inputs and post-op addends) reading `from` reads `to` instead.
void ReplaceUses(Graph* g, int from, int to);

// True if `t` is a tensor computed at run time (not absent, not a constant).
inline bool IsRuntime(const Graph& g, int t) { return t >= 0 && !g.tensors[t].is_const; }

}  // namespace vqi::infer::onednn::rewrites
