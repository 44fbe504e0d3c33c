/*
 * WINE-ONLY TEST STAND-IN. NEVER SHIPPED, NEVER NEEDED ON WINDOWS.
 *
 * Rust's standard library, in consent.dll, imports ProcessPrng from
 * bcryptprimitives.dll, which Windows 10 and newer have. Wine 8.0 (Debian
 * 12) has no bcryptprimitives.dll, so loading consent.dll under Wine fails
 * with "Module not found". The Windows test (extension/tests/windows)
 * builds this file into a bcryptprimitives.dll placed beside its host
 * program, under Wine only, and nowhere else: Windows' own DLL is the real
 * thing, and scripts/release.sh never builds or copies this file.
 *
 * ProcessPrng fills the buffer with random bytes (and, on Windows, never
 * fails); here Wine's RtlGenRandom (SystemFunction036 in advapi32) does it.
 *
 *   x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll \
 *       wine_bcryptprimitives.c -ladvapi32
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    /* RtlGenRandom takes a ULONG length: larger requests in pieces. */
    while (length > 0) {
        ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, piece)) return FALSE;
        data += piece;
        length -= piece;
    }
    return TRUE;
}
