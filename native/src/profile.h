// libtorch's operator profiler, summarised per operator (docs/speed.md#profiling).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rdarts {

struct OpStat {
  std::string name;
  int64_t calls = 0;
  double totalUs = 0;  // inclusive: the op and the ops it called
  double selfUs = 0;   // exclusive
};

// Start recording every operator this process runs (the legacy CPU profiler); throws if it runs.
void ProfileStart();
// Stop and return one row per operator name, by self time, largest first.
std::vector<OpStat> ProfileStop();

}  // namespace rdarts
