#!/usr/bin/env python3
"""Find the first difference between a Vireo CPU trace and a QEMU TCG trace.

Vireo:  VIREO_CPU_TRACE=ours.log vireo-vmx --engine soft ...
QEMU:   qemu-system-x86_64 -accel tcg -one-insn-per-tb -d cpu,nochain -D qemu.log ...
        (QEMU 7.2: -singlestep instead of -one-insn-per-tb)

Both logs hold one register block per instruction, in QEMU's `-d cpu` field
format: "RAX=... RBX=..." (or "EAX=..." outside long mode), "RIP=... RFL=...
[...] CPL=...", segment lines "CS =sel base limit flags", CR0=..., EFER=....
Blocks are parsed into fields and compared by value (32-bit register names
compare with the low half of the 64-bit ones). The two runs start at different
places (QEMU runs firmware first), so --sync-rip ADDR skips each log to the
first block at that RIP (e.g. the kernel's 64-bit entry, 0x1000200).

Usage: trace-compare.py OURS QEMU [--sync-rip HEX] [--fields RAX,RBX,...]
       [--ignore FIELD,...] [--max N]
Exit status: 0 no difference within the compared blocks, 1 difference, 2 usage.
"""
import argparse
import re
import sys

PAIR = re.compile(r"([A-Z][A-Z0-9]*)\s*=\s*([0-9a-fA-F]+)")
SEG = re.compile(r"^(ES|CS|SS|DS|FS|GS|LDT|TR)\s*=\s*([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)")
GPR32 = {"EAX": "RAX", "EBX": "RBX", "ECX": "RCX", "EDX": "RDX", "ESI": "RSI",
         "EDI": "RDI", "EBP": "RBP", "ESP": "RSP", "EIP": "RIP", "EFL": "RFL"}
DEFAULT_FIELDS = ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R10",
                  "R11", "R12", "R13", "R14", "R15", "RIP", "RFL", "CPL", "CS", "SS", "DS",
                  "ES", "FS", "GS", "CR0", "CR3", "CR4", "EFER"]


def blocks(path):
    """Yields (line_number, fields) per register block."""
    cur, start, narrow = None, 0, False
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            if line.startswith(("RAX=", "EAX=")):
                if cur:
                    yield start, cur
                cur, start, narrow = {}, n, line.startswith("EAX=")
            if cur is None:
                continue
            m = SEG.match(line)
            if m:
                cur[m.group(1)] = int(m.group(2), 16)
                cur[m.group(1) + ".base"] = int(m.group(3), 16)
                continue
            if line.startswith(("GDT=", "IDT=")):
                continue
            for k, v in PAIR.findall(line):
                k = GPR32.get(k, k)
                cur[k] = int(v, 16)
            if narrow:
                cur["_narrow"] = 1
    if cur:
        yield start, cur


def sync(it, rip):
    for n, b in it:
        if rip is None or b.get("RIP") == rip:
            yield n, b
            break
    yield from it


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ours")
    ap.add_argument("qemu")
    ap.add_argument("--sync-rip", type=lambda s: int(s, 16))
    ap.add_argument("--fields", default=",".join(DEFAULT_FIELDS))
    ap.add_argument("--ignore", default="")
    ap.add_argument("--max", type=int, default=0)
    a = ap.parse_args()
    fields = [f for f in a.fields.split(",") if f and f not in a.ignore.split(",")]
    ours = sync(iter(blocks(a.ours)), a.sync_rip)
    theirs = sync(iter(blocks(a.qemu)), a.sync_rip)
    count = 0
    prev = None
    for (n1, b1), (n2, b2) in zip(ours, theirs):
        count += 1
        narrow = b1.get("_narrow") or b2.get("_narrow")
        for f in fields:
            if f not in b1 or f not in b2:
                continue
            v1, v2 = b1[f], b2[f]
            if narrow and f.startswith("R") and f not in ("RFL",):
                v1 &= 0xffffffff
                v2 &= 0xffffffff
            if f == "RFL":
                v1 &= 0x3f7fd7  # bits QEMU shows; RF/VM etc. compared too
                v2 &= 0x3f7fd7
            if v1 != v2:
                print(f"first difference at block {count}: {f} ours={v1:#x} qemu={v2:#x}")
                print(f"  ours line {n1}, qemu line {n2}")
                if prev:
                    print(f"  previous instruction: RIP={prev.get('RIP', 0):#x}")
                return 1
        prev = b1
        if a.max and count >= a.max:
            break
    print(f"no difference in {count} blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
