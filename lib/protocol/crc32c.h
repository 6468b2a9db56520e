// CRC32C (Castagnoli), the checksum of RecordBatch v2. Uses the SSE4.2
// crc32 instruction when the CPU has it (three interleaved streams), on
// CPUs with VPCLMULQDQ together with carry-less multiplication over long
// buffers, a slicing-by-8 table otherwise; all are checked against
// published vectors and each other.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kfk::proto {

// CRC32C of data, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
// The portable implementation (exposed for tests and benchmarks).
uint32_t crc32c_software(const void* data, size_t size, uint32_t crc = 0);
// True when crc32c() uses the hardware instruction.
bool crc32c_hardware_available();
// True when crc32c() also folds long buffers with VPCLMULQDQ.
bool crc32c_clmul_available();
// The crc32 instruction alone (software without it), as crc32c() was
// before the carry-less fold (exposed for tests and benchmarks).
uint32_t crc32c_sse42(const void* data, size_t size, uint32_t crc = 0);

}  // namespace kfk::proto
