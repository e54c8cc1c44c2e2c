/* A stand-in for Windows' bcryptprimitives.dll, for the test wine prefix only.
 *
 * Rust's std (1.78+) gets random bytes from ProcessPrng in
 * bcryptprimitives.dll, which every Windows 10+ has but Debian's wine 8 does
 * not: without it every Rust exe exits at start-up. This exports ProcessPrng
 * over advapi32's RtlGenRandom (SystemFunction036). It is never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
