#!/usr/bin/env python3
"""The baseline for the e-mail throughput benchmark: Python's smtplib sends
--messages messages over --connections connections (one thread each, each
connection reused) and prints "MESSAGES_PER_SECOND <n>".

Usage: smtplib_bench.py --port P --connections C --messages N --eml FILE
(FILE: a message to send, e.g. one the Rust side wrote; only its size and
shape matter.)
"""

import argparse
import smtplib
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--eml", required=True)
    args = parser.parse_args()
    with open(args.eml, "rb") as f:
        body = f.read()
    counter = iter(range(args.messages))
    lock = threading.Lock()
    errors = []

    def work():
        client = smtplib.SMTP("127.0.0.1", args.port, timeout=30)
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    break
                client.sendmail("bench@example.se", ["c%d@example.se" % n], body)
        except Exception as e:  # reported, and the count shows it
            errors.append(repr(e))
        finally:
            client.quit()

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit("errors: %s" % errors[:3])
    print("MESSAGES_PER_SECOND %.1f" % (args.messages / elapsed), flush=True)


if __name__ == "__main__":
    main()
