// Small helpers shared by the shim's translation units (not part of the C API).
#ifndef CDICOM_UTIL_H
#define CDICOM_UTIL_H
#include <cstddef>
#include <cstring>
#include <string>

namespace cdicom {
// Copies a message into a caller's buffer, always NUL-terminated, truncated if needed.
inline void copy(char *dst, size_t len, const char *src) {
    if (dst == nullptr || len == 0) return;
    if (src == nullptr) src = "";
    size_t n = strlen(src);
    if (n >= len) n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
}  // namespace cdicom
#endif
