"""A tiny authoritative DNS server for the egress tests: answers A and AAAA queries from a JSON zone, on loopback.

Usage: dns_stub.py ZONE.json  (prints the UDP port it listens on, then serves until killed)
The zone maps a name to a list of addresses (IPv4 and IPv6 mixed), or to a list of such lists: then each
A query gets the next list in turn (the last one repeats), which is how a test makes an answer change
between requests. An A query is answered with the IPv4 addresses of the list, an AAAA query with the IPv6
ones, as a real server answers the two questions a resolver asks; other types get an empty answer and
unknown names NXDOMAIN.
"""
import json
import socket
import struct
import os
import sys
import threading


def read_name(data, offset):
    labels = []
    while data[offset]:
        length = data[offset]
        labels.append(data[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    return ".".join(labels).lower(), offset + 1


def main():
    zone = json.load(open(sys.argv[1]))
    served = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    while True:
        data, peer = sock.recvfrom(512)
        ident, _flags, qdcount = struct.unpack("!HHH", data[:6])
        name, end = read_name(data, 12)
        qtype, _qclass = struct.unpack("!HH", data[end : end + 4])
        question = data[12 : end + 4]
        answers = []
        rcode = 0
        if name not in zone:
            rcode = 3
        elif qtype in (1, 28):
            entry = zone[name]
            if entry and isinstance(entry[0], list):
                # The turn advances on A queries only (a lookup asks both); lists that change hold IPv4 only.
                index = served.get(name, 0)
                if qtype == 1:
                    served[name] = index + 1
                entry = entry[min(index, len(entry) - 1)]
            family = socket.AF_INET if qtype == 1 else socket.AF_INET6
            answers = [socket.inet_pton(family, address) for address in entry if (":" in address) == (qtype == 28)]
        header = struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, len(answers), 0, 0)
        body = b"".join(struct.pack("!HHHIH", 0xC00C, qtype, 1, 0, len(data)) + data for data in answers)
        sock.sendto(header + question + body, peer)


if __name__ == "__main__":
    # Never outlive the test process: it holds our stdin open, and closes it by exiting, however it exits.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    main()
