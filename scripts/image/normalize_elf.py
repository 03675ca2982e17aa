#!/usr/bin/env python3
"""Makes a Swift release binary independent of the folder it was built in, in place.

    normalize_elf.py BINARY...

Two clean builds of one commit in different folders differed in exactly two places (found by
`make image-verify` and `diff_layouts.py`, then by section):
  - `.swift_modhash`: the Swift compiler records an MD5 of each LLVM module, which names its source by
    absolute path, so that an incremental build can skip code generation. Nothing reads it at run time.
    Its bytes are set to zero (the section keeps its place and size, so no address moves).
  - `.note.gnu.build-id`: the linker's SHA-1 over the output, so it differed because the hashes above did.
    It is recomputed the same way over the normalized file (with the note's own bytes zeroed), so the
    binary keeps a build id that debuggers and crash tools can use, now a function of the content alone.
"""
import hashlib
import struct
import sys


def sections(data):
    """(name, offset, size) of every section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("normalize_elf: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    found = []
    for name, _type, _flags, _addr, offset, size, *_ in headers:
        end = data.index(b"\0", names_offset + name)
        found.append((data[names_offset + name:end].decode(), offset, size))
    return found


def normalize(path):
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    by_name = {name: (offset, size) for name, offset, size in sections(data)}
    if ".swift_modhash" in by_name:
        offset, size = by_name[".swift_modhash"]
        data[offset:offset + size] = bytes(size)
    if ".note.gnu.build-id" in by_name:
        offset, size = by_name[".note.gnu.build-id"]
        name_size, desc_size, _type = struct.unpack_from("<III", data, offset)
        desc = offset + 12 + ((name_size + 3) & ~3)
        data[desc:desc + desc_size] = bytes(desc_size)
        digest = hashlib.sha1(data).digest()
        data[desc:desc + desc_size] = (digest * 2)[:desc_size]
    with open(path, "wb") as handle:
        handle.write(data)


if __name__ == "__main__":
    for binary in sys.argv[1:]:
        normalize(binary)
