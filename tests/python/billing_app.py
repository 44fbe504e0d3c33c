"""A legacy billing application at work: a clerk saving customers and
ticking consent boxes while `consent-portal sync` runs against the same
database. Used by portal/tests/billing_app_concurrency.rs.

Run with Debian's interpreter, whose sqlite3 module can load extensions:

    /usr/bin/python3 tests/python/billing_app.py create LIBCONSENT DB --journal delete|wal
    /usr/bin/python3 tests/python/billing_app.py run LIBCONSENT DB --log LOG
        [--seconds 60] [--busy-timeout 2.0] [--seed 1]

`create` makes the register (customers: id, name, email, mobile, address),
sets the journal mode the billing application chose (`delete`, SQLite's
default rollback journal, or `wal`), and sets consent up: consent_init and
the business's settings.

`run` works for --seconds as a clerk would, in short transactions on one
connection with a busy timeout of --busy-timeout seconds (2 s by default, a
legacy application's usual few seconds): it saves new customers (and ticks
their consent box), queues, approves and revokes consent for existing
ones, changes addresses, and every 20 s (the first time at once) imports
150 customers and queues the whole register with consent_queue_all(): sync
then sends for longer than the busy timeout (at least 3 s at 20 ms a
message), so that a lock held across the sends makes writes here fail. Every operation is one
JSON line in LOG:

    {"op": n, "t": seconds since start, "kind": ..., "ok": true|false,
     "error": text|null, "wait_ms": the time the write took, BEGIN to COMMIT,
     "customers": [ids inserted], "address": [id, text] for an address change,
     "transitions": [{"customer", "function", "from", "to", "tag", "certain"}]}

A transition is a status change the call made. `certain` is true when the
application knows the call changed the status: the call ran inside its own
BEGIN IMMEDIATE with the status read before it, or the status before was
one that only the application moves out of (missing, denied, error: sync
never does). Otherwise (`certain` false) sync may have changed the status
between the read and the call, and the call may have changed nothing.
`tag` is the evidence (approve) or reason (revoke) the call passed, unique
per operation, which the event log records in its `detail` column.

Any sqlite3 error (such as "database is locked") is a failed write. At the
end one JSON summary line goes to stdout; the exit code is 1 if any write
failed, with the first failures on stderr.
"""

import argparse
import json
import random
import sqlite3
import sys
import time

# Statuses only the billing application moves out of: sync never changes a
# missing, denied or error request (it sends queued ones, and applies
# decisions and expiry to sent ones).
STABLE = ("missing", "denied", "error")
IMPORT_EVERY = 20.0
IMPORT_SIZE = 150
INFO_TEXT = "Vi sparar namn, adress och e-post för fakturering och kundservice."


def connect(db, lib, busy_timeout):
    conn = sqlite3.connect(db, timeout=busy_timeout, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(lib)
    conn.enable_load_extension(False)
    return conn


def scalar(conn, sql, params=()):
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone()[0]
    finally:
        cursor.close()


def create(args):
    conn = sqlite3.connect(args.db, isolation_level=None)
    mode = scalar(conn, f"PRAGMA journal_mode = {args.journal}")
    if mode != args.journal:
        sys.exit(f"journal_mode is {mode}, not {args.journal}")
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "email TEXT, mobile TEXT, address TEXT)"
    )
    conn.close()
    conn = connect(args.db, args.lib, 2.0)
    for sql, params in [
        ("SELECT consent_init('customers', 'id', 'email', 'mobile', 'name')", ()),
        ("SELECT consent_setting('business_name', ?)", ("Dahls Rör AB",)),
        ("SELECT consent_setting('info_text', ?)", (INFO_TEXT,)),
    ]:
        scalar(conn, sql, params)
    print(json.dumps({"journal_mode": scalar(conn, "PRAGMA journal_mode")}))
    conn.close()


class Clerk:
    def __init__(self, conn, log, rng):
        self.conn = conn
        self.log = log
        self.rng = rng
        self.op = 0
        self.start = time.monotonic()
        self.ids = [i for (i,) in conn.execute("SELECT id FROM customers")]
        self.next_number = len(self.ids) + 1
        self.ops = 0
        self.failures = []
        self.waits = []
        self.transitions = 0

    # One operation: `work` runs its statements and returns the record's
    # fields; its time, outcome and any error go to the log.
    def operation(self, kind, work, transaction):
        self.op += 1
        record = {"op": self.op, "t": round(time.monotonic() - self.start, 3), "kind": kind}
        fields = {"transitions": []}
        began = time.monotonic()
        try:
            if transaction:
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                work(fields)
                if transaction:
                    self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
            record.update(ok=True, error=None)
        except sqlite3.Error as e:
            # A failed write: nothing it did counts.
            fields = {"transitions": []}
            record.update(ok=False, error=f"{type(e).__name__}: {e}")
            self.failures.append(record)
        wait_ms = (time.monotonic() - began) * 1000
        record["wait_ms"] = round(wait_ms, 2)
        record.update(fields)
        self.ops += 1
        self.waits.append(wait_ms)
        self.transitions += len(record["transitions"])
        self.log.write(json.dumps(record) + "\n")
        # Only once saved are new customers there to be picked.
        self.ids.extend(record.get("customers", []))

    def status(self, customer):
        return scalar(self.conn, "SELECT consent_status(?)", (customer,))

    def new_customer_row(self):
        n = self.next_number
        self.next_number += 1
        roll = self.rng.random()
        if roll < 0.04:
            email, mobile = None, None  # consent_queue -> error
        elif roll < 0.08:
            email, mobile = "", "070-%03d %02d %02d" % (n % 1000, n % 100, n % 97)
        else:
            email, mobile = f"kund{n}@example.se", None
        return (f"Kund {n}", email, mobile, f"Storgatan {n}, Göteborg")

    def insert(self, fields):
        cursor = self.conn.execute(
            "INSERT INTO customers (name, email, mobile, address) VALUES (?, ?, ?, ?)",
            self.new_customer_row(),
        )
        customer = cursor.lastrowid
        fields.setdefault("customers", []).append(customer)
        return customer

    # Saves a new customer; most get their consent box ticked in the same save.
    def new_customer(self):
        tick = self.rng.random() < 0.7

        def work(fields):
            customer = self.insert(fields)
            if tick:
                after = scalar(self.conn, "SELECT consent_queue(?)", (customer,))
                fields["transitions"].append(
                    transition(customer, "consent_queue", "missing", after, None, True)
                )

        self.operation("new_customer", work, transaction=True)

    # A batch of customers from a spreadsheet, then "ask everyone missing".
    def import_batch(self):
        def work(fields):
            for _ in range(IMPORT_SIZE):
                self.insert(fields)
            missing = [
                c
                for (c,) in self.conn.execute(
                    "SELECT customer_id FROM consent_overview WHERE status = 'missing'"
                )
            ]
            scalar(self.conn, "SELECT consent_queue_all()")
            for customer in missing:
                after = self.status(customer)
                fields["transitions"].append(
                    transition(customer, "consent_queue_all", "missing", after, None, True)
                )

        self.operation("import", work, transaction=True)

    # The clerk ticks the box for an existing customer (a save of one row).
    def queue(self):
        customer = self.rng.choice(self.ids)
        atomic = self.rng.random() < 0.3

        def work(fields):
            before = self.status(customer)
            after = scalar(self.conn, "SELECT consent_queue(?)", (customer,))
            if before != after or not (atomic or before in STABLE):
                fields["transitions"].append(
                    transition(
                        customer, "consent_queue", before, after, None, atomic or before in STABLE
                    )
                )

        self.operation("queue", work, transaction=atomic)

    # Approve by hand (signed paper at the register) or revoke (annul).
    def decide(self, function, to):
        customer = self.rng.choice(self.ids)
        atomic = self.rng.random() < 0.5
        tag = f"{'manual' if function == 'consent_approve' else 'clerk'}: billing app op {self.op + 1}"

        def work(fields):
            before = self.status(customer)
            after = scalar(self.conn, f"SELECT {function}(?, ?)", (customer, tag))
            certain = atomic or before in STABLE
            if certain and before == after:
                return
            fields["transitions"].append(transition(customer, function, before, after, tag, certain))

        self.operation(function.replace("consent_", ""), work, transaction=atomic)

    def change_address(self):
        customer = self.rng.choice(self.ids)
        address = f"Nya vägen {self.op + 1}, Malmö"

        def work(fields):
            self.conn.execute("UPDATE customers SET address = ? WHERE id = ?", (address, customer))
            fields["address"] = [customer, address]

        self.operation("address", work, transaction=False)

    def work_for(self, seconds):
        next_import = 0.0
        while time.monotonic() - self.start < seconds:
            if time.monotonic() - self.start >= next_import:
                self.import_batch()
                next_import += IMPORT_EVERY
                continue
            roll = self.rng.random()
            if roll < 0.25:
                self.new_customer()
            elif roll < 0.45:
                self.queue()
            elif roll < 0.60:
                self.decide("consent_approve", "approved")
            elif roll < 0.75:
                self.decide("consent_revoke", "denied")
            else:
                self.change_address()
            time.sleep(self.rng.uniform(0.005, 0.04))


def transition(customer, function, before, after, tag, certain):
    return {
        "customer": customer,
        "function": function,
        "from": before,
        "to": after,
        "tag": tag,
        "certain": certain,
    }


def run(args):
    conn = connect(args.db, args.lib, args.busy_timeout)
    with open(args.log, "w") as log:
        clerk = Clerk(conn, log, random.Random(args.seed))
        clerk.work_for(args.seconds)
    conn.close()
    waits = sorted(clerk.waits)
    summary = {
        "ops": clerk.ops,
        "failed": len(clerk.failures),
        "transitions": clerk.transitions,
        "busy_timeout_s": args.busy_timeout,
        "max_wait_ms": round(waits[-1], 1) if waits else 0,
        "p99_wait_ms": round(waits[int(len(waits) * 0.99)], 1) if waits else 0,
        "seconds": round(time.monotonic() - clerk.start, 1),
    }
    print(json.dumps(summary))
    if clerk.failures:
        print(f"{len(clerk.failures)} of {clerk.ops} operations failed; the first:", file=sys.stderr)
        for record in clerk.failures[:5]:
            print(json.dumps(record), file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create")
    c.add_argument("lib")
    c.add_argument("db")
    c.add_argument("--journal", choices=["delete", "wal"], default="delete")
    r = sub.add_parser("run")
    r.add_argument("lib")
    r.add_argument("db")
    r.add_argument("--log", required=True)
    r.add_argument("--seconds", type=float, default=60.0)
    r.add_argument("--busy-timeout", type=float, default=2.0)
    r.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        sys.exit(f"{sys.executable}'s sqlite3 module cannot load extensions; use /usr/bin/python3")
    {"create": create, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
