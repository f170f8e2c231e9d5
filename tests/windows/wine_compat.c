/*
 * wine_compat.c - test-only workaround, active only when running under Wine,
 * for a Winsock control code that Wine does not implement.
 *
 * Go 1.24 and later disable ICMP "network unreachable" reporting on every
 * UDP socket with WSAIoctl(SIO_UDP_NETRESET) and treat a failure as fatal
 * ("listen udp4 :0: wsaioctl: winapi error #10045", WSAEOPNOTSUPP). Windows
 * (8 and later) supports the control code; Wine (8.0 at least) does not, so
 * without help the library cannot open its QUIC socket under Wine.
 *
 * wine_compat_install() redirects the GetProcAddress import of moq_ffi.dll
 * (the Go runtime resolves WSAIoctl through it, lazily, when the first socket
 * is created) to a wrapper that hands out a WSAIoctl which reports success
 * for SIO_UDP_NETRESET when Wine refuses it with WSAEOPNOTSUPP; every other
 * call goes to the real functions unchanged. The DLL file itself is not
 * modified. On Windows the function does nothing.
 */
#include <winsock2.h>
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "wine_compat.h"

/* SIO_UDP_NETRESET = _WSAIOW(IOC_VENDOR, 15); not in every MinGW header. */
#define WINE_COMPAT_SIO_UDP_NETRESET (IOC_IN | IOC_VENDOR | 15)

typedef FARPROC(WINAPI* get_proc_fn)(HMODULE, LPCSTR);
typedef int(WINAPI* wsaioctl_fn)(SOCKET, DWORD, LPVOID, DWORD, LPVOID, DWORD, LPDWORD, LPWSAOVERLAPPED,
                                 LPWSAOVERLAPPED_COMPLETION_ROUTINE);

static get_proc_fn real_get_proc;
static wsaioctl_fn volatile real_wsaioctl;
static LONG volatile netreset_faked;

static int WINAPI compat_wsaioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out, DWORD out_len,
                                  LPDWORD ret_len, LPWSAOVERLAPPED ov,
                                  LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
    int r = real_wsaioctl(s, code, in, in_len, out, out_len, ret_len, ov, done);
    if (r == SOCKET_ERROR && code == WINE_COMPAT_SIO_UDP_NETRESET && ov == NULL &&
        WSAGetLastError() == WSAEOPNOTSUPP) {
        InterlockedIncrement(&netreset_faked);
        if (ret_len != NULL) *ret_len = 0;
        WSASetLastError(0);
        return 0;
    }
    return r;
}

static FARPROC WINAPI compat_get_proc(HMODULE mod, LPCSTR name) {
    FARPROC p = real_get_proc(mod, name);
    if (p != NULL && !IS_INTRESOURCE(name) && strcmp(name, "WSAIoctl") == 0) {
        real_wsaioctl = (wsaioctl_fn)(void*)p;
        return (FARPROC)(void*)compat_wsaioctl;
    }
    return p;
}

const char* wine_compat_version(void) {
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    if (ntdll == NULL) return NULL;
    typedef const char*(CDECL * wine_version_fn)(void);
    wine_version_fn f = (wine_version_fn)(void*)GetProcAddress(ntdll, "wine_get_version");
    return f != NULL ? f() : NULL;
}

int wine_compat_install(const char* dll_name) {
    if (wine_compat_version() == NULL) return 0;
    HMODULE mod = GetModuleHandleA(dll_name);
    HMODULE k32 = GetModuleHandleA("kernel32.dll");
    if (mod == NULL || k32 == NULL) return -1;
    real_get_proc = (get_proc_fn)(void*)GetProcAddress(k32, "GetProcAddress");
    if (real_get_proc == NULL) return -1;

    /* Walk the DLL's import table and replace every slot that holds
     * GetProcAddress. */
    BYTE* base = (BYTE*)mod;
    IMAGE_DOS_HEADER* dos = (IMAGE_DOS_HEADER*)base;
    IMAGE_NT_HEADERS* nt = (IMAGE_NT_HEADERS*)(base + dos->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (dir.VirtualAddress == 0) return -1;
    int patched = 0;
    for (IMAGE_IMPORT_DESCRIPTOR* d = (IMAGE_IMPORT_DESCRIPTOR*)(base + dir.VirtualAddress); d->Name != 0; d++) {
        for (IMAGE_THUNK_DATA* t = (IMAGE_THUNK_DATA*)(base + d->FirstThunk); t->u1.Function != 0; t++) {
            if (t->u1.Function != (ULONG_PTR)(void*)real_get_proc) continue;
            DWORD old;
            if (!VirtualProtect(&t->u1.Function, sizeof t->u1.Function, PAGE_READWRITE, &old)) return -1;
            InterlockedExchangePointer((PVOID volatile*)&t->u1.Function, (PVOID)(void*)compat_get_proc);
            VirtualProtect(&t->u1.Function, sizeof t->u1.Function, old, &old);
            patched++;
        }
    }
    return patched > 0 ? 1 : -1;
}

long wine_compat_netreset_faked(void) { return InterlockedCompareExchange(&netreset_faked, 0, 0); }
