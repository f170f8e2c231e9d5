/*
 * bcryptprimitives_shim.c - test-only stand-in for Windows'
 * bcryptprimitives.dll, for Wine versions that lack it (Debian bookworm's
 * Wine 8.0).
 *
 * Go 1.24 and later require Windows 10 or later: at start-up the runtime
 * loads bcryptprimitives.dll from the system directory and uses its
 * ProcessPrng for random numbers, and throws "bcryptprimitives.dll not
 * found" without it. Every Windows 10/11 ships this DLL, so moq_ffi.dll needs
 * nothing on real Windows; scripts/test-windows.sh installs this shim only
 * into its temporary wine prefix's C:\windows\system32 when Wine has no
 * bcryptprimitives.dll of its own. It is never packaged.
 *
 * ProcessPrng fills the buffer from the system RNG through bcrypt.dll's
 * BCryptGenRandom (which Wine implements); it returns TRUE, as the real
 * function always does, unless the RNG fails.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
