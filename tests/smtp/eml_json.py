#!/usr/bin/env python3
"""Parses e-mail messages with Python's own email package and prints what
the tests check, as JSON: decoded headers, the text and HTML parts, and each
part's MIME headers. An independent reader for what lettre writes.

Usage: eml_json.py FILE...   (prints a JSON list, one object per file)
"""

import email
import email.policy
import json
import sys


def describe(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "from": str(message["From"]),
        "reply_to": str(message["Reply-To"]) if message["Reply-To"] else None,
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "message_id": str(message["Message-ID"]),
        "date": str(message["Date"]) if message["Date"] else None,
        "content_type": message.get_content_type(),
        "parts": [
            {
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
            }
            for part in message.walk()
            if not part.is_multipart()
        ],
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
        "ascii_only": all(b < 128 for b in raw),
        "crlf": b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""),
    }


def main():
    described = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            described.append(describe(f.read()))
    json.dump(described, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
