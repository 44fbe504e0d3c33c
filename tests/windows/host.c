/*
 * A small Windows program embedding SQLite, as a legacy billing application
 * would: it opens a database, loads consent.dll into its connection, runs
 * the SQL script it reads on standard input and prints every row, then
 * closes the database.
 *
 *   host.exe DATABASE EXTENSION < script.sql
 *
 * DATABASE and EXTENSION are Windows paths (Z:\...\consent.dll under Wine).
 * Each row is printed as its columns joined by '|' (NULL as nothing), one
 * line each, as the sqlite3 shell prints them. The script is read as UTF-8
 * bytes and the output written as UTF-8 bytes: no code page is involved.
 *
 * Exit status: 0 when every statement ran and sqlite3_close returned
 * SQLITE_OK; 1 when opening, loading or a statement failed (the message on
 * stderr, starting "host: "; the statements after it are not run, as with
 * sqlite3 -bail); 2 when sqlite3_close did not return SQLITE_OK (a
 * statement or some other object left open); 3 for a wrong command line or
 * unreadable input.
 *
 * Built with x86_64-w64-mingw32-gcc against the SQLite amalgamation that
 * libsqlite3-sys bundles (extension/tests/windows/main.rs).
 */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

/* Standard input, whole, NUL-terminated; NULL when it cannot be read. */
static char *read_all(FILE *in) {
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity);
    if (!text) return NULL;
    for (;;) {
        if (capacity - size < 2) {
            capacity *= 2;
            char *bigger = realloc(text, capacity);
            if (!bigger) {
                free(text);
                return NULL;
            }
            text = bigger;
        }
        size_t n = fread(text + size, 1, capacity - size - 1, in);
        size += n;
        if (n == 0) break;
    }
    if (ferror(in)) {
        free(text);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

/* Runs every statement of `script`; 0, or 1 after reporting the first
 * failure. Every statement is finalized before this returns. */
static int run_script(sqlite3 *db, const char *script) {
    const char *next = script;
    while (*next) {
        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, next, -1, &stmt, &tail) != SQLITE_OK) {
            fprintf(stderr, "host: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        next = tail;
        if (!stmt) continue; /* only white space or a comment */
        int rc;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int columns = sqlite3_column_count(stmt);
            for (int i = 0; i < columns; i++) {
                if (i > 0) fputc('|', stdout);
                const unsigned char *value = sqlite3_column_text(stmt, i);
                if (value) fwrite(value, 1, (size_t)sqlite3_column_bytes(stmt, i), stdout);
            }
            fputc('\n', stdout);
        }
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "host: %s\n", sqlite3_errmsg(db));
            sqlite3_finalize(stmt);
            return 1;
        }
        sqlite3_finalize(stmt);
    }
    return 0;
}

int main(int argc, char **argv) {
    /* Bytes in, bytes out: no "\n" -> "\r\n" and no end at a ^Z byte. */
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    if (argc != 3) {
        fprintf(stderr, "usage: host DATABASE EXTENSION < script.sql\n");
        return 3;
    }
    char *script = read_all(stdin);
    if (!script) {
        fprintf(stderr, "host: cannot read the script on standard input\n");
        return 3;
    }

    sqlite3 *db = NULL;
    int failed = 0;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "host: cannot open %s: %s\n", argv[1],
                db ? sqlite3_errmsg(db) : "out of memory");
        failed = 1;
    }
    if (!failed) {
        char *message = NULL;
        sqlite3_enable_load_extension(db, 1);
        /* No entry point given: SQLite derives sqlite3_consent_init from the
         * file name, as the shell's .load does. */
        if (sqlite3_load_extension(db, argv[2], NULL, &message) != SQLITE_OK) {
            fprintf(stderr, "host: cannot load %s: %s\n", argv[2],
                    message ? message : sqlite3_errmsg(db));
            failed = 1;
        }
        sqlite3_free(message);
    }
    if (!failed) failed = run_script(db, script);
    fflush(stdout);
    free(script);

    /* The extension must leave nothing open: sqlite3_close (not _v2) says
     * SQLITE_BUSY when a statement or blob handle is still alive. */
    int closed = sqlite3_close(db);
    if (closed != SQLITE_OK) {
        fprintf(stderr, "host: sqlite3_close returned %d (%s)\n", closed, sqlite3_errstr(closed));
        return 2;
    }
    return failed;
}
