// A caching allocator for libtorch's CPU tensors (docs/speed.md#allocator).
#pragma once
#include <cstddef>
#include <cstdint>

namespace rdarts {

struct CacheStats {
  uint64_t hits = 0, misses = 0, released = 0;  // allocations served from the cache / from the system; blocks given back
  size_t liveBytes = 0, idleBytes = 0;          // in tensors now / held for reuse
};

// Make it libtorch's CPU allocator (RDARTS_MALLOC=cache, the default); true when in force.
bool InstallCachingAllocator();
CacheStats CachingAllocatorStats();
// Hand every idle block back to the system.
void EmptyCache();

}  // namespace rdarts
