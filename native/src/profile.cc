// libtorch's operator profiler, summarised per operator (docs/speed.md#profiling).
//
// The legacy CPU profiler records a push and a pop per operator call (and per autograd node in
// the backward), per thread, in order; matching them on a stack gives each call's inclusive time,
// and subtracting its children's gives its self time. The same table torch.profiler prints for
// PyTorch (key_averages, by self CPU time), so a TS step and its PyTorch twin can be compared op by
// op. With RDARTS_PROFILE_PARENTS=1 each row is keyed by its calling operator too
// ("parent > op"), to tell where a small operator's calls come from.

#include "profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>

namespace rdarts {

namespace {
bool g_running = false;
}

void ProfileStart() {
  if (g_running) throw std::runtime_error("profileStart: the profiler is already running");
  torch::autograd::profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  g_running = true;
}

std::vector<OpStat> ProfileStop() {
  if (!g_running) throw std::runtime_error("profileStop: the profiler is not running");
  g_running = false;
  const auto lists = torch::autograd::profiler::disableProfilerLegacy();
  std::map<std::string, OpStat> byName;
  struct Open {
    const torch::autograd::profiler::LegacyEvent* push;
    double childUs;
  };
  for (const auto& events : lists) {
    std::vector<Open> stack;
    for (const auto& e : events) {
      const auto kind = e.kindStr();
      if (kind == "push") {
        stack.push_back({&e, 0.0});
      } else if (kind == "pop" && !stack.empty()) {
        const Open o = stack.back();
        stack.pop_back();
        const double us = o.push->cpuElapsedUs(e);
        std::string key = o.push->name();
        if (std::getenv("RDARTS_PROFILE_PARENTS") && !stack.empty()) key = std::string(stack.back().push->name()) + " > " + key;
        OpStat& s = byName[key];
        s.calls++;
        s.totalUs += us;
        s.selfUs += us - o.childUs;
        if (!stack.empty()) stack.back().childUs += us;
      }
    }
  }
  std::vector<OpStat> out;
  out.reserve(byName.size());
  for (auto& [name, s] : byName) {
    s.name = name;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const OpStat& a, const OpStat& b) { return a.selfUs > b.selfUs; });
  return out;
}

}  // namespace rdarts
