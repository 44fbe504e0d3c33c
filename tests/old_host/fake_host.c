/*
 * A stand-in for a program embedding an old SQLite: it loads libconsent and
 * calls its entry point with an API table that reports the version given on
 * the command line. The extension must refuse with a clear message, not
 * crash, and must touch nothing but the version and the allocator.
 *
 *   fake_host <path to libconsent.so> <version number, e.g. 3007017>
 * prints "rc=<code>" and "message=<error message>".
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#define SQLITE_CORE 1 /* the struct only, not the sqlite3_* redirections */
#include <sqlite3ext.h>

static int reported_version;

static int fake_libversion_number(void) { return reported_version; }

static void *fake_malloc(int n) { return malloc((size_t)n); }

typedef int (*entry_point)(sqlite3 *, char **, const sqlite3_api_routines *);

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fake_host LIBRARY VERSION_NUMBER\n");
        return 2;
    }
    reported_version = atoi(argv[2]);
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    entry_point init = (entry_point)dlsym(library, "sqlite3_consent_init");
    if (!init) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 2;
    }
    /* Every other entry is NULL: using one would crash, which the test sees. */
    sqlite3_api_routines api;
    memset(&api, 0, sizeof api);
    api.libversion_number = fake_libversion_number;
    api.malloc = fake_malloc;
    char *message = NULL;
    int rc = init(NULL, &message, &api);
    printf("rc=%d\nmessage=%s\n", rc, message ? message : "(none)");
    free(message);
    return 0;
}
