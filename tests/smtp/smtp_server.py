#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for the e-mail tests and benchmarks.

Listens on 127.0.0.1, prints "PORT <n>" once it accepts connections, and
stores every accepted message in --out as NNNNN.eml (the bytes as received)
with NNNNN.json beside it (peer, envelope, login). Each EHLO is appended to
--out/connections.jsonl, so a test can count the connections a client used.

Faults, for the error paths. CMD is one step of the conversation: EHLO,
MAIL, RCPT, DATACMD (the DATA command, before 354) or DATA (the end of the
message, after its final dot):
  --delay CMD:MS[:N]    wait MS milliseconds before answering CMD (only
                        the Nth CMD of the run, when N is given)
  --fail CMD:N:CODE     answer the Nth CMD of the whole run with CODE
  --drop CMD:N          close the connection instead of answering the Nth
                        CMD; for DATA the message is stored first, so the
                        client never learns that it was accepted (the
                        ambiguous window)
  --fail-rcpt ADDR:CODE answer every RCPT TO:<ADDR> with CODE
  --auth USER:PASS      offer AUTH PLAIN/LOGIN without TLS; accept only this login
  --tls MODE            "starttls": offer STARTTLS; "implicit": TLS from the
                        first byte; with untrusted-cert.pem (self-signed,
                        localhost / 127.0.0.1), which no client should trust

Without --tls no STARTTLS is offered. The server stops when its stdin closes (the test
that started it ended) or after --max-seconds.

Needs aiosmtpd (tests/smtp/requirements.txt).
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import ssl
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd 1.4 logs a warning about its own use of a deprecated attribute.
logging.getLogger("mail.log").setLevel(logging.ERROR)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--delay", action="append", default=[], metavar="CMD:MS[:N]")
    parser.add_argument("--fail", action="append", default=[], metavar="CMD:N:CODE")
    parser.add_argument("--drop", action="append", default=[], metavar="CMD:N")
    parser.add_argument("--fail-rcpt", action="append", default=[], metavar="ADDR:CODE")
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    delays = {}
    for item in args.delay:
        command, ms, *nth = item.split(":")
        key = (command.upper(), int(nth[0])) if nth else command.upper()
        delays[key] = int(ms) / 1000
    fails = {}
    for item in args.fail:
        command, nth, code = item.split(":")
        fails[(command.upper(), int(nth))] = int(code)
    for item in args.drop:
        command, nth = item.split(":")
        fails[(command.upper(), int(nth))] = DROP
    fail_rcpt = {}
    for item in args.fail_rcpt:
        address, code = item.rsplit(":", 1)
        fail_rcpt[address.lower()] = int(code)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    return args, delays, fails, fail_rcpt, auth


# In the fault table instead of a reply code: close the connection.
DROP = "drop"


def reply(code):
    words = {4: "Try again later (test server)", 5: "Refused (test server)"}
    return f"{code} {words.get(code // 100, 'Test server')}"


class Recorder:
    def __init__(self, out, delays, fails, fail_rcpt):
        self.out = out
        self.delays = delays
        self.fails = fails
        self.fail_rcpt = fail_rcpt
        self.counts = {}
        self.sequence = itertools.count(1)

    async def step(self, command, server, before=None):
        """Waits as configured; returns a failure reply for this command, if
        any. A drop closes the connection (after `before`, if given) and
        returns an empty reply, which aiosmtpd cannot send any more."""
        n = self.counts[command] = self.counts.get(command, 0) + 1
        delay = self.delays.get((command, n), self.delays.get(command))
        if delay:
            await asyncio.sleep(delay)
        code = self.fails.get((command, n))
        if code == DROP:
            if before:
                before()
            server.transport.close()
            return "421 closing (test server)"
        return reply(code) if code else None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        failure = await self.step("EHLO", server)
        if failure:
            return [failure]
        session.host_name = hostname
        peer = "%s:%s" % session.peer[:2]
        with open(os.path.join(self.out, "connections.jsonl"), "a") as log:
            log.write(json.dumps({"peer": peer, "ehlo": hostname}) + "\n")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        failure = await self.step("MAIL", server)
        if failure:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = await self.step("RCPT", server)
        if failure:
            return failure
        code = self.fail_rcpt.get(address.lower())
        if code:
            return reply(code)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        failure = await self.step("DATA", server, lambda: self.store(session, envelope))
        if failure:
            return failure
        self.store(session, envelope)
        return "250 Message accepted"

    def store(self, session, envelope):
        name = "%05d" % next(self.sequence)
        with open(os.path.join(self.out, name + ".eml"), "wb") as eml:
            eml.write(envelope.original_content)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "peer": "%s:%s" % session.peer[:2],
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "login": login.decode() if login else None,
        }
        temporary = os.path.join(self.out, "." + name + ".json")
        with open(temporary, "w") as meta:
            json.dump(record, meta)
        os.replace(temporary, os.path.join(self.out, name + ".json"))


class FaultySMTP(SMTP):
    """aiosmtpd's server with a fault point at the DATA command itself."""

    async def smtp_DATA(self, arg):
        failure = await self.event_handler.step("DATACMD", self)
        if failure:
            if not self.transport.is_closing():
                await self.push(failure)
            return
        await super().smtp_DATA(arg)


def authenticator_for(credentials):
    user, password = credentials

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


async def serve(args, delays, fails, fail_rcpt, auth):
    os.makedirs(args.out, exist_ok=True)
    recorder = Recorder(args.out, delays, fails, fail_rcpt)
    options = dict(
        hostname="smtp.test.invalid",
        enable_SMTPUTF8=True,
        decode_data=False,
        timeout=args.max_seconds,
    )
    if auth:
        options.update(authenticator=authenticator_for(auth), auth_require_tls=False)
    implicit = None
    if args.tls:
        here = os.path.dirname(os.path.abspath(__file__))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(
            os.path.join(here, "untrusted-cert.pem"), os.path.join(here, "untrusted-key.pem")
        )
        if args.tls == "starttls":
            options.update(tls_context=context)
        else:
            implicit = context
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: FaultySMTP(recorder, **options), "127.0.0.1", args.port, ssl=implicit
    )
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)

    stop = asyncio.Event()

    def wait_for_stdin_to_close():
        # os.read, not sys.stdin: a daemon thread blocked in a buffered
        # reader makes the interpreter abort at exit.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        finally:
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.max_seconds)
    except asyncio.TimeoutError:
        pass
    server.close()


def main():
    asyncio.run(serve(*parse_args()))


if __name__ == "__main__":
    main()
