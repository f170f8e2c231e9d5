/* Deliberately leaks (a MoqResult.message never passed to moq_free_str, and
 * a plain malloc) so that scripts/ctest.sh can prove that its valgrind and
 * ASan runs fail on a leak. Not part of the passing suite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moq_ffi.h"

static void* volatile sink_ptr;

int main(void) {
    MoqResult r = moq_disconnect(NULL); /* message is heap memory ... */
    printf("code %d\n", (int)r.code);  /* ... never freed: lost at exit */
    r.message = NULL;
    char* p = (char*)malloc(64);
    strcpy(p, "leaked on purpose");
    sink_ptr = p;
    sink_ptr = NULL;
    puts(moq_version());
    return 0;
}
