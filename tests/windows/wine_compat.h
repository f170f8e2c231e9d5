/* Test-only Wine workaround; see wine_compat.c. */
#ifndef WINE_COMPAT_H
#define WINE_COMPAT_H

/* The Wine version when running under Wine, else NULL. */
const char* wine_compat_version(void);

/* Under Wine, makes the loaded DLL dll_name tolerate Wine's missing
 * SIO_UDP_NETRESET. Returns 0 when not under Wine (nothing done), 1 when
 * installed, -1 on failure. Call before the DLL opens any socket. */
int wine_compat_install(const char* dll_name);

/* How many SIO_UDP_NETRESET calls were answered by the workaround. */
long wine_compat_netreset_faked(void);

#endif
