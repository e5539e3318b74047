#!/usr/bin/env python3
"""A real SMTP server for the tests: aiosmtpd's SMTP protocol on an asyncio server.

    smtp-sink.py --dir DIR --ready FILE [--port N]

Listens on 127.0.0.1 (port N, or any free port when N is 0 or left out), writes the
bound port to FILE once it accepts connections, and keeps every message it receives
in DIR as NNNN.eml (the bytes as received) and NNNN.json (the envelope, and the
headers and body as Python's e-mail parser decodes them: RFC 2047 words, the charset
and transfer encoding of the body). Both appear whole (written, then renamed).

It stops when its standard input closes, so that it ends with the test that started
it (testkit::smtp::SmtpSink), even when that test is killed.

To test how a sender handles refusals, a recipient whose local part is
`reject-permanent` is refused with 550 and one whose local part is
`reject-transient` with 451.

Needs aiosmtpd (scripts/tools.sh installs it into .tools/venv).
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


def text_of(part):
    """An attachment's content as text (application/* parts decode to bytes)."""
    content = part.get_content()
    return content.decode("utf-8") if isinstance(content, bytes) else content


def write_whole(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject-permanent":
            return "550 5.1.1 Mailbox unavailable (refused on purpose by smtp-sink)"
        if local == "reject-transient":
            return "451 4.3.0 Try again later (refused on purpose by smtp-sink)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        record = {
            "envelope_from": envelope.mail_from or "",
            "envelope_to": list(envelope.rcpt_tos),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "content_language": str(message.get("Content-Language", "")),
            "content_type": str(message.get("Content-Type", "")),
            "headers": [[name, str(value)] for name, value in message.items()],
            "body": body,
            "attachments": [
                {"filename": a.get_filename() or "", "content": text_of(a)}
                for a in message.iter_attachments()
                if a.get_content_maintype() in ("text", "application")
            ],
        }
        self.count += 1
        stem = os.path.join(self.directory, "%04d" % self.count)
        write_whole(stem + ".eml", raw)
        write_whole(stem + ".json", json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return "250 2.0.0 Message accepted"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where received messages go")
    parser.add_argument("--ready", required=True, help="file to write the bound port to")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free one)")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, decode_data=False, enable_SMTPUTF8=True, hostname="smtp-sink"),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    write_whole(args.ready, str(port).encode("ascii"))

    # Serve until the parent closes our stdin (or dies, which closes it too).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
