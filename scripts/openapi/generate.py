#!/usr/bin/env python3
"""Writes Sources/Gateway/OpenAPIDocument.swift: openapi.yaml as JSON, which the daemon serves at GET /openapi.json.

The committed YAML is the one source; the daemon embeds this generated copy (no resource files to ship in the
image). OpenAPITests compares what a live daemon serves with the YAML, so a YAML edit without `make openapi` fails.

Usage: scripts/openapi/generate.py [--check]   (--check: exit 1 if the Swift file is not what the YAML gives)
"""
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi.yaml"
SWIFT = ROOT / "Sources/Gateway/OpenAPIDocument.swift"


def swift_source() -> str:
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if '"""##' in text or "\\##(" in text:
        sys.exit("openapi.yaml's JSON contains a Swift raw-string delimiter")
    return (
        "// Generated from openapi.yaml by scripts/openapi/generate.py (make openapi); do not edit.\n"
        "// OpenAPITests checks that the daemon serves exactly what the YAML says.\n\n"
        "/// The API's OpenAPI 3.1 description (`openapi.yaml`) as JSON, served at `GET /openapi.json`.\n"
        "enum OpenAPIDocument {\n"
        "    static let json = ##\"\"\"\n"
        f"{text}\n"
        "\"\"\"##\n"
        "}\n"
    )


def main() -> None:
    source = swift_source()
    if "--check" in sys.argv[1:]:
        if not SWIFT.exists() or SWIFT.read_text(encoding="utf-8") != source:
            sys.exit(f"{SWIFT.relative_to(ROOT)} is not openapi.yaml's JSON: run make openapi")
        return
    SWIFT.write_text(source, encoding="utf-8")


if __name__ == "__main__":
    main()
