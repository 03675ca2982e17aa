#!/usr/bin/env python3
"""Summarises a `swift test` run for `make test`: lists every skipped test with its reason, and fails the
run when CI=true and a security suite skipped anything (a skipped escape test is an untested claim).

    test_report.py --status N --xunit FILE-swift-testing.xml --output CONSOLE.txt

N is swift test's exit status. Skips come from Swift Testing's xUnit file (it names the module and the
suite, which the console lines do not); if that file is missing, from the console's "skipped:" lines.
Exits with N when N is not 0; otherwise 1 when CI forbids a skip it found, else 0.
"""
import argparse
import os
import re
import sys
import xml.etree.ElementTree as ElementTree

# Test targets whose every test guards a security claim, and the attestation suites of GatewayTests.
SECURITY_TARGETS = {"EscapeTests", "JailTests", "EgressTests", "DCAPVerifierTests"}
SECURITY_SUITES = {"GatewayTests.AttestationTests", "GatewayTests.GuestAgentClientTests", "GatewayTests.VerifyCommandTests"}


def skips_from_xunit(path):
    """(module.suite, test, reason) for every skipped test case."""
    found = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            found.append((case.get("classname", "?"), case.get("name", "?"), (skipped.text or skipped.get("message") or "").strip()))
    return found


def skips_from_console(path):
    """The console's skip lines, when there is no xUnit file (no module names there)."""
    found = []
    with open(path, encoding="utf-8", errors="replace") as console:
        for line in console:
            match = re.search(r'(?:Test|Suite) (.+?) skipped(?:: "(.*)")?$', line.rstrip())
            if match:
                found.append(("?", match.group(1), match.group(2) or ""))
    return found


def is_security(classname):
    module = classname.split(".")[0]
    return module in SECURITY_TARGETS or any(classname == suite or classname.startswith(suite + ".") for suite in SECURITY_SUITES)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--status", type=int, required=True)
    parser.add_argument("--xunit", required=True)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()

    if os.path.exists(arguments.xunit):
        skips = skips_from_xunit(arguments.xunit)
    elif os.path.exists(arguments.output):
        print(f"(no {arguments.xunit}: skips from the console output, without their modules)")
        skips = skips_from_console(arguments.output)
    else:
        print("no test output to report on")
        return arguments.status or 1

    print()
    print(f"== skipped tests: {len(skips)}")
    for classname, name, reason in skips:
        marker = "  [security]" if is_security(classname) else ""
        print(f"  {classname} {name}: {reason or '(no reason given)'}{marker}")

    if arguments.status != 0:
        print(f"== swift test failed (exit status {arguments.status})")
        return arguments.status
    forbidden = [skip for skip in skips if skip[0] == "?" or is_security(skip[0])]
    if os.environ.get("CI") == "true" and forbidden:
        print(f"== CI=true: {len(forbidden)} skipped test(s) in security suites; every one must run in CI")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
