// A caching allocator for libtorch's CPU tensors (docs/speed.md#allocator).
//
// A search step allocates and frees the same few hundred activation-sized buffers in the same
// order every step. Through glibc every one of them is a walk of the heap's free lists
// (_int_malloc, unlink_chunk, malloc_consolidate: about 9 % of the main thread's samples in a
// config-(b) second-order step; posix_memalign, which libtorch's own allocator uses for its
// 64-byte alignment, bypasses glibc's thread caches even for small blocks) or a fresh mmap whose
// pages fault in zeroed. This allocator keeps freed blocks in per-size free lists and hands them
// out again: after the first step nearly every allocation is a hit, with no system call and no
// page fault.
//
// Sizes are rounded up to a class: multiples of 64 bytes up to 4 KiB, then eight classes per power
// of two (at most 12.5 % more, none for the powers of two that most activation sizes are), so a
// block fits every request of its class. Blocks are 64-byte aligned like libtorch's own allocator.
// Idle blocks are held up to a cap (RDARTS_CACHE_MB, default 1024 MiB);
// a block freed past the cap goes back to the system. emptyCache() returns all idle blocks.

#include "alloc.h"

#include <c10/core/CPUAllocator.h>

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace rdarts {

namespace {

constexpr size_t kAlign = 64;
constexpr size_t kPage = 4096;

// up to 4 KiB: multiples of 64 bytes; above: eight classes per power of two, in whole pages
size_t SizeClass(size_t n) {
  if (n <= kPage) return n == 0 ? kAlign : (n + kAlign - 1) / kAlign * kAlign;
  size_t top = 1;
  while ((top << 1) <= n) top <<= 1;  // the largest power of two ≤ n
  const size_t step = top / 8 < kPage ? kPage : top / 8;
  return (n + step - 1) / step * step;
}

void* SystemAlloc(size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, n) != 0) return nullptr;
  return p;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> idle;  // size class -> idle blocks
  std::unordered_map<void*, size_t> live;              // cached-size block -> its class
  CacheStats stats;
  size_t capBytes = 0;
};

Cache& TheCache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during exit
  return *c;
}

void Free(void* p) {
  if (p == nullptr) return;
  Cache& c = TheCache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.live.find(p);
    if (it != c.live.end()) {
      const size_t b = it->second;
      c.live.erase(it);
      c.stats.liveBytes -= b;
      if (c.stats.idleBytes + b <= c.capBytes) {
        c.idle[b].push_back(p);
        c.stats.idleBytes += b;
        return;
      }
      c.stats.released++;
    }
  }
  std::free(p);
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    const c10::Device cpu(c10::DeviceType::CPU);
    const size_t b = SizeClass(n);
    Cache& c = TheCache();
    {
      std::lock_guard<std::mutex> lock(c.mu);
      auto it = c.idle.find(b);
      if (it != c.idle.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        c.stats.idleBytes -= b;
        c.stats.hits++;
        c.live.emplace(p, b);
        c.stats.liveBytes += b;
        return {p, p, &Free, cpu};
      }
    }
    void* p = SystemAlloc(b);
    if (p == nullptr) {
      EmptyCache();  // hand the idle blocks back and try once more
      p = SystemAlloc(b);
      if (p == nullptr) throw std::bad_alloc();
    }
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.misses++;
    c.live.emplace(p, b);
    c.stats.liveBytes += b;
    return {p, p, &Free, cpu};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Free; }
};

}  // namespace

bool InstallCachingAllocator() {
  Cache& c = TheCache();
  const char* cap = std::getenv("RDARTS_CACHE_MB");
  double mb = 1024;
  if (cap != nullptr && *cap != '\0') {
    char* end = nullptr;
    const double v = std::strtod(cap, &end);
    if (end != nullptr && *end == '\0' && std::isfinite(v) && v >= 0) mb = v;
  }
  c.capBytes = static_cast<size_t>(mb * 1024 * 1024);
  static CachingCPUAllocator* alloc = new CachingCPUAllocator();
  // priority above libtorch's default CPU allocator (registered at 0)
  c10::SetCPUAllocator(alloc, 1);
  return c10::GetCPUAllocator() == alloc;
}

CacheStats CachingAllocatorStats() {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void EmptyCache() {
  Cache& c = TheCache();
  std::vector<void*> blocks;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& [size, v] : c.idle) {
      blocks.insert(blocks.end(), v.begin(), v.end());
      c.stats.released += v.size();
      v.clear();
    }
    c.stats.idleBytes = 0;
  }
  for (void* p : blocks) std::free(p);
}

}  // namespace rdarts
