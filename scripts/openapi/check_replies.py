#!/usr/bin/env python3
"""Checks real replies against openapi.yaml: each status must be declared for its operation, each content type
declared for that status, and each JSON body must match that response's schema (with jsonschema_rs, the validator
schemathesis installs; draft 2020-12, the dialect of OpenAPI 3.1). The replies come from a real daemon flow
(OpenAPITests), so the spec's schemas, whose objects say `additionalProperties: false`, are checked against what the
OAuth3Wire types really encode.

Usage: check_replies.py openapi.yaml replies.json
replies.json: [{"method": "GET", "path": "/execute/{id}/status", "status": 200, "content_type": "...", "body": "..."}]
An entry {"schema": "ExecutionStatus", "body": "..."} checks a value against that schema of components/schemas alone
(wire values with every optional field set, so a field the spec lacks shows even when no flow sends it).
Prints one line per reply checked and one per problem; exits 1 if there is any problem.
"""
import json
import sys

import jsonschema_rs
import yaml


def schema_problems(schema: dict, spec: dict, text: str) -> list:
    """Where the JSON `text` departs from `schema` (whose "#/components/..." references resolve in `spec`)."""
    try:
        body = json.loads(text)
    except ValueError as error:
        return [f"body is not JSON: {error}"]
    document = dict(schema, components=spec["components"])
    validator = jsonschema_rs.Draft202012Validator(document)
    return [f"at {'/'.join(str(part) for part in error.instance_path) or '(root)'}: {error.message}" for error in validator.iter_errors(body)]


def main(spec_path: str, replies_path: str) -> int:
    spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
    replies = json.load(open(replies_path, encoding="utf-8"))
    problems = []
    for reply in replies:
        if "schema" in reply:
            where = f"schema {reply['schema']}"
            problems += [f"{where}: {problem}" for problem in schema_problems({"$ref": f"#/components/schemas/{reply['schema']}"}, spec, reply["body"])]
            print(f"checked {where}")
            continue
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
            problems += [f"{where}: {problem}" for problem in schema_problems(content[media].get("schema", {}), spec, reply["body"])]
        print(f"checked {where} ({media})")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"{len(replies)} replies, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
