#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turns golden .hex files (datagrams separated by '.' lines) into one binary
seed file per datagram for the netlink fuzzer."""
import pathlib
import sys

source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
target.mkdir(parents=True, exist_ok=True)
for hex_file in sorted(source.glob("*.hex")):
    datagrams, current = [], ""
    for line in hex_file.read_text().splitlines():
        if line == ".":
            datagrams.append(bytes.fromhex(current))
            current = ""
        else:
            current += line
    if current:
        datagrams.append(bytes.fromhex(current))
    for index, datagram in enumerate(datagrams):
        (target / f"{hex_file.stem}-{index}.bin").write_bytes(datagram)
