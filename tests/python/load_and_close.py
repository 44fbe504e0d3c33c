"""Loads libconsent into Python's sqlite3 module, uses it on a WAL database
of 1000 customers, closes the connection, and proves the connection was
released: the -wal file is gone and another connection gets the exclusive
access that leaving WAL mode needs.

Run with Debian's interpreter, whose sqlite3 module can load extensions:

    /usr/bin/python3 tests/python/load_and_close.py LIBCONSENT FOLDER

LIBCONSENT is the path of libconsent.so, FOLDER an empty scratch folder.
Prints one line per check and `all ok` last; exits non-zero on a failure.
"""

import os
import sqlite3
import sys

CUSTOMERS = 1000
AT = "2026-01-01T00:00:00Z"


def check(name, ok, detail=""):
    if not ok:
        print(f"FAILED {name} {detail}".rstrip())
        sys.exit(1)
    print(f"ok {name}")


def scalar(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()[0]


def make_register(path):
    """The billing application's register, in WAL mode: every 10th customer
    has no e-mail address, every 3rd has a mobile number."""
    conn = sqlite3.connect(path, isolation_level=None)
    check("journal_mode_wal", scalar(conn, "PRAGMA journal_mode=wal") == "wal")
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, mobile TEXT)"
    )
    rows = [
        (
            i,
            f"Customer {i}",
            None if i % 10 == 0 else f"c{i}@example.com",
            f"+4670{i:07d}" if i % 3 == 0 else None,
        )
        for i in range(1, CUSTOMERS + 1)
    ]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()


def use_extension(path, lib):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(lib)
    conn.enable_load_extension(False)

    check("version", len(scalar(conn, "SELECT consent_version()")) > 0)
    check(
        "init",
        scalar(conn, "SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')") == "ok",
    )
    check(
        "info_text",
        scalar(conn, "SELECT consent_setting('info_text', ?)", ("Vi vill skicka nyheter.",))
        == "Vi vill skicka nyheter.",
    )
    check("label", scalar(conn, "SELECT consent_label('approved')") == "Samtycke är godkänt")

    # Per-row calls belong in a transaction (one commit, not one per row).
    conn.execute("BEGIN")
    statuses = [s for (s,) in conn.execute("SELECT consent_queue(id, ?) FROM customers", (AT,))]
    conn.execute("COMMIT")
    check("per_row_calls", len(statuses) == CUSTOMERS, str(len(statuses)))
    queued, errors = statuses.count("queued"), statuses.count("error")
    check("per_row_outcomes", (queued, errors) == (900, 100), f"{queued} queued, {errors} errors")
    check("events", scalar(conn, "SELECT count(*) FROM consent_event") == CUSTOMERS)

    check("mark_sent", scalar(conn, "SELECT consent_mark_sent(1, 'email', NULL, ?)", (AT,)) == "sent")
    check("approve", scalar(conn, "SELECT consent_approve(2, 'manual', ?)", (AT,)) == "approved")
    check("revoke", scalar(conn, "SELECT consent_revoke(4, 'asked', ?)", (AT,)) == "denied")
    check("expire", scalar(conn, "SELECT consent_expire('2026-01-08T00:00:00Z')") == 1)
    check("queue_all_nothing_missing", scalar(conn, "SELECT consent_queue_all('missing', ?)", (AT,)) == 0)
    check("queue_all_denied", scalar(conn, "SELECT consent_queue_all('denied', ?)", (AT,)) == 2)
    by_status = dict(conn.execute("SELECT status, count(*) FROM consent_overview GROUP BY status"))
    check(
        "overview",
        by_status == {"queued": 899, "approved": 1, "error": 100},
        str(by_status),
    )

    # An SQL error reaches Python as an exception; the connection goes on.
    try:
        conn.execute("SELECT consent_status(99999)").fetchone()
        check("unknown_id_raises", False)
    except sqlite3.OperationalError as e:
        check("unknown_id_raises", "no customer with id 99999" in str(e), str(e))
    check("usable_after_error", scalar(conn, "SELECT consent_status(1)") == "queued")

    # A statement read only partly, then closed, as applications do.
    cursor = conn.execute("SELECT consent_status(id) FROM customers")
    check("partial_read", cursor.fetchone()[0] == "queued")
    cursor.close()

    conn.close()


def prove_released(path):
    wal = path + "-wal"
    check("wal_file_gone_after_close", not os.path.exists(wal), wal)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    check("exclusive_access", scalar(other, "PRAGMA journal_mode=delete") == "delete")
    check("data_kept", scalar(other, "SELECT count(*) FROM consent_event") > CUSTOMERS)
    other.close()
    check("no_wal_after_switch", not os.path.exists(wal))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    lib, folder = sys.argv[1], sys.argv[2]
    path = os.path.join(folder, "billing.db")
    make_register(path)
    use_extension(path, lib)
    prove_released(path)
    print("all ok")


if __name__ == "__main__":
    main()
