#!/usr/bin/env python3
"""`bpfvm bench` / `bpfvm compare` end to end.

usage: cli_bench_test.py MODE BPFVM EXAMPLES_DIR SOURCE_DIR WORK_DIR PROGRAMS_DIR
MODE: json_report | disagree | kernel_skip | compare | usage. Exit 0 pass, 1 fail, 77 skip.
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODE, BPFVM, EXAMPLES, SOURCE, WORK, PROGRAMS = sys.argv[1:7]
XDP = os.path.join(EXAMPLES, "xdp_parse.bpf.o")
PACKET = os.path.join(SOURCE, "examples", "packets", "ipv4_udp_dns.bin")
DATA = os.path.join(SOURCE, "tests", "cli_bench", "data")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)
    return cond


def run(args, prefix=()):
    p = subprocess.run(list(prefix) + [BPFVM] + args, capture_output=True, text=True, timeout=100)
    print("$ " + " ".join(list(prefix) + [BPFVM] + args) + f"  -> exit {p.returncode}")
    if p.stderr:
        print(p.stderr.rstrip())
    return p


# --- the JSON schema: key -> type (a tuple allows several; dicts nest) -------------------------------
NUM = (int, float)
SPREAD = {"median": NUM, "min": NUM, "max": NUM}
TOP = {"object": str, "program": str, "program_type": str, "data_bytes": int, "ctx_bytes": int, "repeat": int,
       "rounds": int, "agree": bool, "disagreements": list, "timing": str, "ratio_base": str, "engines": list,
       "result": {"retval": int, "r0": str, "data_out_bytes": int, "maps_compared": list, "maps_not_compared": list}}
ENGINE_OK = {"name": str, "status": str, "ns_per_run": dict(SPREAD, rounds=list), "ratio_to_first": SPREAD,
             "insns_executed": (int, type(None)), "code_bytes": (int, type(None)), "entry_bytes": (int, type(None)),
             "load_us": NUM, "verify_us": NUM + (type(None),), "compile_us": NUM + (type(None),), "batches": int,
             "batches_dropped": int}
ENGINE_SKIPPED = {"name": str, "status": str, "reason": str}


def check_schema(obj, schema, where):
    if not check(isinstance(obj, dict), f"{where}: an object"):
        return
    check(set(obj) == set(schema), f"{where}: keys {sorted(obj)} are not {sorted(schema)}")
    for key, want in schema.items():
        if key not in obj:
            continue
        if isinstance(want, dict):
            check_schema(obj[key], want, f"{where}.{key}")
        else:
            check(isinstance(obj[key], want) and not (want in (int, NUM) and isinstance(obj[key], bool)),
                  f"{where}.{key} = {obj[key]!r} is not {want}")


def check_bench_json(doc, engines):
    check_schema(doc, TOP, "bench")
    check([e["name"] for e in doc["engines"]] == engines, f"engines in the order asked: {engines}")
    for e in doc["engines"]:
        check(e.get("status") in ("ok", "skipped"), f"{e.get('name')}: status ok or skipped")
        if e.get("status") == "skipped":
            check_schema(e, ENGINE_SKIPPED, e["name"])
            check(e["name"] == "kernel" and e["reason"], "only the kernel is skipped, with a reason")
            continue
        check_schema(e, ENGINE_OK, e["name"])
        ns = e["ns_per_run"]
        check(len(ns["rounds"]) == doc["rounds"], f"{e['name']}: one figure per round")
        check(ns["min"] <= ns["median"] <= ns["max"] and ns["min"] > 0, f"{e['name']}: 0 < min <= median <= max")
    ok = [e for e in doc["engines"] if e["status"] == "ok"]
    check(doc["ratio_base"] == ok[0]["name"], "ratio_base names the first engine that ran")
    first = ok[0]["ratio_to_first"]
    check(first["median"] == first["min"] == first["max"] == 1.0, "the first engine's ratio is 1 in every round")
    for e in ok[1:]:
        # The ratio is taken per round: it lies between the extremes of the per-round quotients.
        q = [a / b for a, b in zip(e["ns_per_run"]["rounds"], ok[0]["ns_per_run"]["rounds"])]
        check(abs(min(q) - e["ratio_to_first"]["min"]) < 0.01 and abs(max(q) - e["ratio_to_first"]["max"]) < 0.01,
              f"{e['name']}: ratios are per-round quotients")


class HtmlChecker(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr", "rect"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors, self.text, self.refs = [], set(), [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_report(path, doc):
    with open(path, encoding="utf-8") as f:
        page = f.read()
    p = HtmlChecker()
    p.feed(page)
    p.close()
    check(page.startswith("<!DOCTYPE html>"), "report: a doctype")
    check(not p.errors and not p.stack, f"report: well nested ({p.errors[:3]}, open {p.stack})")
    check({"html", "head", "body", "svg", "rect", "table"} <= p.tags, f"report: html, svg bars, a table ({p.tags})")
    check("script" not in p.tags and not p.refs and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', ""),
          "report: self-contained (no scripts, no links)")
    text = "".join(p.text)
    bars = 0
    for e in doc["engines"]:
        check(e["name"] in text, f"report names {e['name']}")
        if e["status"] != "ok":
            check(e["reason"] in text, "report: the skip reason")
            continue
        check(f"{e['ns_per_run']['median']:.1f} ns" in text, f"report: {e['name']}'s ns/run bar label")
        bars += 1
        if e["code_bytes"] is not None:
            check(f"{e['code_bytes']} B" in text, f"report: {e['name']}'s code-size bar label")
            bars += 1
    check(page.count("<rect") == bars, f"report: one bar per figure ({page.count('<rect')} != {bars})")


def mode_json_report():
    engines = ["interp", "jit", "jit-checked", "kernel"]
    report = os.path.join(WORK, "report.html")
    p = run(["bench", XDP, "--packet", PACKET, "--engines", ",".join(engines), "--repeat", "300", "--rounds", "3", "--json",
             "--report", report])
    check(p.returncode == 0, "bench exits 0 when the engines agree")
    doc = json.loads(p.stdout)
    check_bench_json(doc, engines)
    check(doc["agree"] and doc["disagreements"] == [], "xdp_parse agrees across engines")
    check(doc["result"]["retval"] == 2 and doc["result"]["data_out_bytes"] == 42, "XDP_PASS and the packet back")
    check(doc["result"]["maps_compared"] == ["rxcnt"], "the per-CPU counter map is compared")
    by = {e["name"]: e for e in doc["engines"]}
    check(by["interp"]["insns_executed"] and by["interp"]["insns_executed"] == by["jit-checked"]["insns_executed"],
          "interp and jit-checked count the same instructions")
    check(by["jit"]["code_bytes"] and by["jit"]["entry_bytes"], "the JIT's code bytes")
    # The checked variant's listing, not the fast one's: bounds checks make it larger.
    check((by["jit-checked"]["code_bytes"] or 0) > by["jit"]["code_bytes"], "jit-checked's own (larger) code size")
    if by["kernel"]["status"] == "ok":
        check(by["kernel"]["code_bytes"] > 0, "the kernel's bytes_jited")
    else:
        print("note: kernel skipped here: " + by["kernel"]["reason"])
    check("\r" not in p.stderr, "no progress line with --json")
    check_report(report, doc)


def mode_disagree():
    for prog in ("ktime.s", "frame_pointer.s"):
        path = os.path.join(DATA, prog)
        p = run(["bench", path, "--engines", "interp,jit", "--repeat", "10"])
        check(p.returncode == 1, f"{prog}: exit 1 when the engines disagree")
        check("disagree" in p.stderr and "r0: interp 0x" in p.stderr, f"{prog}: says what differs")
        p = run(["bench", path, "--engines", "interp,jit", "--repeat", "10", "--json"])
        check(p.returncode == 1, f"{prog} --json: exit 1")
        doc = json.loads(p.stdout)
        check(doc["agree"] is False and doc["disagreements"], f"{prog} --json: agree false, the differences")
    # Same verdict, different packet out and map: each difference is named (the kernel too, where bpf() works).
    stamp = os.path.join(PROGRAMS, "ktime_stamp.bpf.o")
    p = run(["bench", stamp, "--packet", PACKET, "--engines", "interp,jit,kernel", "--repeat", "10", "--json"])
    check(p.returncode == 1, "ktime_stamp: exit 1")
    doc = json.loads(p.stdout)
    diffs = doc["disagreements"]
    check(not any(d.startswith(("r0", "retval")) for d in diffs), "ktime_stamp: the verdicts agree")
    check(any(d.startswith("packet out: interp 42 bytes") and ", jit 42 bytes" in d for d in diffs),
          "ktime_stamp: the packets differ (interp vs jit)")
    check(any(d.startswith("map stamps key 00000000: interp ") and ", jit " in d for d in diffs),
          "ktime_stamp: the maps differ (interp vs jit)")
    if doc["engines"][2]["status"] == "ok":
        check(any("kernel" in d and d.startswith("packet out") for d in diffs) and
              any("kernel" in d and d.startswith("map stamps") for d in diffs), "ktime_stamp: the kernel differs too")
    # Same verdict, packet and maps, different context (skb->cb[]): named as a context difference.
    cb = os.path.join(PROGRAMS, "cb_stamp.bpf.o")
    p = run(["bench", cb, "--packet", PACKET, "--engines", "interp,jit,kernel", "--repeat", "10", "--json"])
    doc = json.loads(p.stdout)
    diffs = doc["disagreements"]
    check(p.returncode == 1 and any(d.startswith("context out: interp ") and ", jit " in d for d in diffs) and
          not any(d.startswith(("r0", "retval", "packet out")) for d in diffs), "cb_stamp: only the contexts differ")
    if doc["engines"][2]["status"] == "ok":
        check(any(d.startswith("context out") and "kernel" in d for d in diffs), "cb_stamp: the kernel's context too")
    # The control: the same engines agree on a program without an engine-dependent result.
    control = os.path.join(WORK, "seven.s")
    with open(control, "w") as f:
        f.write("mov %r0, 7\nexit\n")
    p = run(["bench", control, "--engines", "interp,jit,jit-checked", "--repeat", "10", "--json"])
    check(p.returncode == 0 and json.loads(p.stdout)["result"]["r0"] == "0x7", "a deterministic program agrees")


def mode_kernel_skip():
    # The unprivileged user must be able to read the inputs wherever the tree lives (a clone in a
    # 0700 mktemp directory, as CI makes, is not traversable by it): copies in a readable directory.
    inputs = tempfile.mkdtemp(prefix="bpfvm-kernel-skip-")
    try:
        os.chmod(inputs, 0o755)
        xdp, packet = (shutil.copy(f, inputs) for f in (XDP, PACKET))
        for f in (xdp, packet):
            os.chmod(f, 0o644)
        kernel_skip_checks(xdp, packet)
    finally:
        shutil.rmtree(inputs)


def kernel_skip_checks(xdp, packet):
    prefix = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            print("SKIP: root without setpriv cannot take bpf() away")
            sys.exit(77)
        prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
    p = run(["bench", xdp, "--packet", packet, "--engines", "interp,kernel,jit", "--repeat", "100", "--rounds", "2", "--json"],
            prefix)
    check(p.returncode == 0, "bench runs the other engines without bpf()")
    lines = [l for l in p.stderr.splitlines() if "kernel engine skipped" in l]
    check(len(lines) == 1 and "bpf()" in lines[0], "one visible line says the kernel was skipped and why")
    doc = json.loads(p.stdout)
    check_bench_json(doc, ["interp", "kernel", "jit"])
    kernel = doc["engines"][1]
    check(kernel["status"] == "skipped" and "EPERM" in kernel["reason"], "JSON: kernel skipped, with the errno")
    p = run(["bench", xdp, "--packet", packet, "--engines", "interp,kernel", "--repeat", "100", "--rounds", "1"], prefix)
    check(p.returncode == 0 and "kernel" not in p.stdout.split("engine", 1)[1].split("Timing")[0],
          "the text table leaves the skipped kernel out")
    p = run(["compare", xdp], prefix)
    check(p.returncode == 0 and p.stderr.count("kernel column skipped") == 1, "compare: one line for the kernel's absence")
    check("pc 0: " in p.stdout and "| kernel" not in p.stdout, "compare: bpfvm's column alone")


def mode_compare():
    p = run(["compare", XDP])
    check(p.returncode == 0, "compare exits 0")
    out = p.stdout
    pcs = re.findall(r"^pc (\d+): .*", out, re.M)
    check(len(pcs) >= 40, f"one block per instruction ({len(pcs)})")
    # The optimizing tier's code when that is what runs: its header says so, its blocks still add up.
    opt = run(["compare", XDP, "--engine", "jit-opt"])
    check(opt.returncode == 0 and ("x86-64, optimized tier" in opt.stdout or "arm64, optimized tier" in opt.stdout),
          "compare --engine jit-opt: the optimizing tier's listing")
    check(len(re.findall(r"^pc (\d+): .*", opt.stdout, re.M)) >= 20, "jit-opt: blocks per instruction")
    check("baseline tier" in out, "compare: the baseline's header by default")
    if "kernel column skipped" in p.stderr:
        check(p.stderr.count("kernel column skipped") == 1, "one skip line")
        print("note: kernel column skipped here")
        sys.exit(77 if not failures else 1)
    sizes = re.findall(r"^pc \d+: .*\[bpfvm (\d+) B \| kernel (\d+) B\]$", out, re.M)
    check(len(sizes) == len(pcs), "every block gives both sizes")
    m = re.search(r"^size: bpfvm (\d+) bytes \(instructions (\d+) \+ stubs (\d+);.*kernel (\d+) bytes \(bytes_jited", out, re.M)
    if check(m is not None, "the size summary"):
        ours, body, stubs, theirs = map(int, m.groups())
        check(sum(int(a) for a, _ in sizes) == body and body + stubs == ours, "bpfvm's blocks add up to its size")
        check(sum(int(b) for _, b in sizes) == theirs, "the kernel's blocks add up to bytes_jited: every byte placed")
    block0 = out.split("pc 0:", 1)[1].split("\npc 1:", 1)[0]
    check("push rbp" in block0, "the kernel's prologue is in instruction 0's block")
    check("| mov eax,0x1" in block0.replace("  ", " ") or "mov eax,0x1" in block0, "pc 0 shows the kernel's mov")
    check(re.search(r"^pc 35: call 1 .*\n(.*\n)*?.*\| .*gs:", out, re.M) is not None,
          "the kernel's inlined per-CPU array lookup sits at the call")
    # An instruction the kernel removes before its JIT (`goto +0`): an empty kernel column, 0 bytes.
    p = run(["compare", os.path.join(PROGRAMS, "nop_jump.bpf.o")])
    check(p.returncode == 0 and re.search(r"^pc \d+: ja \+0 .*\[bpfvm \d+ B \| kernel 0 B\]$", p.stdout, re.M) is not None,
          "nop_jump: the removed `ja +0` has an empty kernel column")
    # Several functions (a global subprogram): the kernel's images are placed by jited_ksyms/func_lens.
    p = run(["compare", os.path.join(EXAMPLES, "globals_subprog.bpf.o"), "--prog", "xdp_main"])
    sizes = re.findall(r"^pc \d+: .*\[bpfvm (\d+) B \| kernel (\d+) B\]$", p.stdout, re.M)
    m = re.search(r"kernel (\d+) bytes \(bytes_jited", p.stdout)
    check(p.returncode == 0 and m is not None and sizes and sum(int(b) for _, b in sizes) == int(m.group(1)),
          "globals_subprog: the kernel's blocks add up to bytes_jited over its functions")
    # Each function's image starts with the kernel's prologue; it must sit at that function's first
    # instruction (0, and the targets of `call local` and `lddw_func` in bpfvm's disassembly).
    d = run(["disasm", os.path.join(EXAMPLES, "globals_subprog.bpf.o"), "--prog", "xdp_main"])
    starts = {0} | {int(pc) + int(off) + 1 for pc, off in re.findall(r"^(\d+): (?:call local|lddw_func %r\d+,) \+(\d+)$",
                                                                       d.stdout, re.M)}
    prologues = set()
    for block in re.split(r"^(?=pc \d+: )", p.stdout, flags=re.M):
        if block.startswith("pc ") and re.search(r"\| push rbp$", block, re.M):
            prologues.add(int(block.split(":", 1)[0][3:]))
    check(len(starts) > 2 and prologues == starts, f"globals_subprog: prologues at {sorted(prologues)}, functions at {sorted(starts)}")


def mode_usage():
    for cmd in ("bench", "compare"):
        p = run([cmd, "--help"])
        check(p.returncode == 0 and p.stdout.startswith(f"usage: bpfvm {cmd}"), f"{cmd} --help")
    p = run(["--help"])
    check("  bench " in p.stdout and "  compare " in p.stdout, "bpfvm --help lists bench and compare")
    check(run(["bench", XDP, "--engines", "interp,quantum"]).returncode == 2, "an unknown engine is a usage error")
    check(run(["bench", XDP, "--repeat", "0"]).returncode == 2, "--repeat 0 is a usage error")
    check(run(["bench"]).returncode == 2, "bench without a program is a usage error")
    check(run(["compare", os.path.join(DATA, "ktime.s")]).returncode == 2, "compare takes objects only")


os.makedirs(WORK, exist_ok=True)
{"json_report": mode_json_report, "disagree": mode_disagree, "kernel_skip": mode_kernel_skip,
 "compare": mode_compare, "usage": mode_usage}[MODE]()
print(f"{len(failures)} failure(s)" if failures else "ok")
sys.exit(1 if failures else 0)
