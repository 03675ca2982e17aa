#!/usr/bin/env python3
"""Checks real replies against openapi.yaml: each status must be declared for its operation, each content type
declared for that status, and each JSON body must match that response's schema (with jsonschema_rs, the validator
schemathesis installs; draft 2020-12, the dialect of OpenAPI 3.1). The replies come from a real daemon flow
(OpenAPITests), so the spec's schemas, whose objects say `additionalProperties: false`, are checked against what the
OAuth3Wire types really encode.

Usage: check_replies.py openapi.yaml replies.json
replies.json: [{"method": "GET", "path": "/execute/{id}/status", "status": 200, "content_type": "...", "body": "..."}]
Prints one line per reply checked and one per problem; exits 1 if there is any problem.
"""
import json
import sys

import jsonschema_rs
import yaml


def main(spec_path: str, replies_path: str) -> int:
    spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
    replies = json.load(open(replies_path, encoding="utf-8"))
    problems = []
    for reply in replies:
        where = f"{reply['method']} {reply['path']} → {reply['status']}"
        operation = spec["paths"].get(reply["path"], {}).get(reply["method"].lower())
        if operation is None:
            problems.append(f"{where}: the spec has no such operation")
            continue
        response = operation["responses"].get(str(reply["status"])) or operation["responses"].get("default")
        if response is None:
            problems.append(f"{where}: status not declared (declared: {', '.join(operation['responses'])})")
            continue
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        media = reply["content_type"].split(";")[0].strip()
        content = response.get("content", {})
        if media not in content:
            problems.append(f"{where}: content type {media!r} not declared (declared: {', '.join(content) or 'none'})")
            continue
        if media == "application/json":
            schema = dict(content[media].get("schema", {}))
            schema["components"] = spec["components"]  # so "#/components/..." resolves inside this document
            try:
                body = json.loads(reply["body"])
            except ValueError as error:
                problems.append(f"{where}: body is not JSON: {error}")
                continue
            validator = jsonschema_rs.Draft202012Validator(schema)
            for error in validator.iter_errors(body):
                path = "/".join(str(part) for part in error.instance_path) or "(root)"
                problems.append(f"{where}: at {path}: {error.message}")
        print(f"checked {where} ({media})")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"{len(replies)} replies, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
