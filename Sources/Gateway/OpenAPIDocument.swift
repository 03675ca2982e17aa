// Generated from openapi.yaml by scripts/openapi/generate.py (make openapi); do not edit.
// OpenAPITests checks that the daemon serves exactly what the YAML says.

/// The API's OpenAPI 3.1 description (`openapi.yaml`) as JSON, served at `GET /openapi.json`.
enum OpenAPIDocument {
    static let json = ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "OAuth3 Enclave",
    "version": "0.2.0",
    "summary": "Run an AI agent's TypeScript skill in an attested sandbox, after a person approves it.",
    "description": "The HTTP API of `oauth3-enclave serve`: the routes of enclave 0.1.x that the OAuth3 SDK and its CLI use, plus the\npasskey (consent) routes, the approval page's JSON, probes and metrics. `GET /openapi.json` serves this document.\n\nConventions: every JSON reply is `application/json; charset=utf-8` with `Cache-Control: no-store`; times are Unix\nmilliseconds; ids are a prefix (`exec_`, `scope_`, `session_`, `tenant_`) and 16 hex digits. Every request body is\nread strictly (duplicate keys, lone surrogates, non-UTF-8 bytes and numbers not in canonical form such as `1.0`,\n`1e2`, `-0` or integers beyond 2^53 are a 400 naming the byte offset). Top-level fields a body has but the daemon\ndoes not read are named in the reply's `warnings` rather than dropped. Every error is an `Error` object naming\nwhat is wrong and where. docs/api.md says how this file is kept true to the daemon.\n",
    "license": {
      "name": "see the repository"
    }
  },
  "externalDocs": {
    "description": "docs/api.md in the repository",
    "url": "https://github.com/"
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8787",
      "description": "the daemon `make run` starts"
    }
  ],
  "tags": [
    {
      "name": "jobs"
    },
    {
      "name": "sessions"
    },
    {
      "name": "secrets"
    },
    {
      "name": "account"
    },
    {
      "name": "approval"
    },
    {
      "name": "operations"
    }
  ],
  "security": [
    {
      "agentKey": []
    },
    {
      "orchestratorJWT": []
    }
  ],
  "paths": {
    "/openapi.json": {
      "get": {
        "tags": [
          "operations"
        ],
        "operationId": "getOpenAPI",
        "summary": "This document, as JSON.",
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/healthz": {
      "get": {
        "tags": [
          "operations"
        ],
        "operationId": "getHealth",
        "summary": "Liveness, and how jobs are isolated.",
        "security": [],
        "responses": {
          "200": {
            "description": "The process serves requests.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/HealthReport"
                }
              }
            }
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "tags": [
          "operations"
        ],
        "operationId": "getReadiness",
        "summary": "Whether the daemon can take a job and finish it with an attested result now.",
        "security": [],
        "responses": {
          "200": {
            "description": "Every check passed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ReadinessReport"
                }
              }
            }
          },
          "503": {
            "description": "At least one check failed (the same body says which).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ReadinessReport"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "tags": [
          "operations"
        ],
        "operationId": "getMetrics",
        "summary": "Prometheus text exposition; label values are fixed sets (no tenant, job, skill or secret).",
        "security": [],
        "responses": {
          "200": {
            "description": "The metrics.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/v1/attestation": {
      "get": {
        "tags": [
          "operations"
        ],
        "operationId": "getAttestation",
        "summary": "A fresh quote over the enclave's keys and the caller's nonce.",
        "security": [],
        "parameters": [
          {
            "name": "nonce",
            "in": "query",
            "required": true,
            "description": "8 to 64 bytes, hex.",
            "schema": {
              "type": "string",
              "pattern": "^([0-9a-fA-F]{2}){8,64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The quote, the keys it binds and the application's identity.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FreshAttestation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/signup": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "signup",
        "summary": "A new account and its agent key (shown once; only its SHA-256 is stored).",
        "security": [],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SignupRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The account.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SignupResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      },
      "get": {
        "tags": [
          "account"
        ],
        "operationId": "signupPage",
        "summary": "The signup page, where a person's passkey becomes the new account's first approver.",
        "security": [],
        "responses": {
          "200": {
            "$ref": "#/components/responses/Page"
          }
        }
      }
    },
    "/signup/passkey/challenge": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "signupPasskeyChallenge",
        "summary": "The WebAuthn creation options for a person's signup.",
        "security": [],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PasskeyName"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What the page hands to `navigator.credentials.create`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChallengeReply"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/signup/passkey": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "signupWithPasskey",
        "summary": "A person's signup; the passkey made is the account's first approver.",
        "security": [],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PasskeyEnrolment"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The account and its agent key (which cannot approve anything).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SignupResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/claim": {
      "get": {
        "tags": [
          "account"
        ],
        "operationId": "claimPage",
        "summary": "The page that enrols an SDK-made account's first approver with its agent key (trust on first use).",
        "security": [],
        "responses": {
          "200": {
            "$ref": "#/components/responses/Page"
          }
        }
      }
    },
    "/approve/{id}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/RequestId"
        }
      ],
      "get": {
        "tags": [
          "approval"
        ],
        "operationId": "getApproval",
        "summary": "What the approver is asked to allow, as JSON, or the approval page for a browser (`Accept`).",
        "security": [],
        "parameters": [
          {
            "name": "token",
            "in": "query",
            "required": false,
            "description": "The approval link's token (32 bytes, hex).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The request.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalRequest"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequestOrPage"
          },
          "403": {
            "$ref": "#/components/responses/ForbiddenOrPage"
          },
          "404": {
            "$ref": "#/components/responses/NotFoundOrPage"
          },
          "409": {
            "$ref": "#/components/responses/ConflictOrPage"
          }
        }
      },
      "post": {
        "tags": [
          "approval"
        ],
        "operationId": "decide",
        "summary": "Approve or deny, as JSON or as the page's form.",
        "security": [],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ApprovalDecision"
              }
            },
            "application/x-www-form-urlencoded": {
              "schema": {
                "$ref": "#/components/schemas/ApprovalForm"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The decision's outcome (HTML for the page's form).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApprovalOutcome"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequestOrPage"
          },
          "403": {
            "$ref": "#/components/responses/ForbiddenOrPage"
          },
          "404": {
            "$ref": "#/components/responses/NotFoundOrPage"
          },
          "409": {
            "$ref": "#/components/responses/ConflictOrPage"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      }
    },
    "/approve/{id}/challenge": {
      "parameters": [
        {
          "$ref": "#/components/parameters/RequestId"
        }
      ],
      "post": {
        "tags": [
          "approval"
        ],
        "operationId": "approvalChallenge",
        "summary": "For an account with approvers, the statement a passkey signs for exactly this decision.",
        "security": [],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ChallengeRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What the page hands to `navigator.credentials.get`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChallengeReply"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/execute": {
      "post": {
        "tags": [
          "jobs"
        ],
        "operationId": "execute",
        "summary": "Submit a skill (or, with `dry_run`, ask what would happen, creating nothing).",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ExecuteRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The job, stored with its code hash.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ExecutionStatus"
                }
              }
            }
          },
          "200": {
            "description": "A dry run's verdict.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DryRunResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      }
    },
    "/execute/{id}/status": {
      "parameters": [
        {
          "$ref": "#/components/parameters/RequestId"
        }
      ],
      "get": {
        "tags": [
          "jobs"
        ],
        "operationId": "getStatus",
        "summary": "The job, with `result` once done; `wait` holds the request until it changes.",
        "parameters": [
          {
            "name": "wait",
            "in": "query",
            "required": false,
            "description": "`true` or `1`: hold the request until the job changes (final and `awaiting_secrets` answer at once).",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "timeout",
            "in": "query",
            "required": false,
            "description": "Seconds to hold at most; capped by the daemon's own limit (120 s), at least 1.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ExecutionStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      }
    },
    "/scope": {
      "post": {
        "tags": [
          "sessions"
        ],
        "operationId": "scope",
        "summary": "Ask a person once for what a session's skills may use.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ScopeRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The scope request (`pending_scope`), with its approval link.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ExecutionStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      }
    },
    "/sessions": {
      "get": {
        "tags": [
          "sessions"
        ],
        "operationId": "listSessions",
        "summary": "The tenant's sessions.",
        "responses": {
          "200": {
            "description": "The sessions.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SessionList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/sessions/{id}": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          }
        }
      ],
      "get": {
        "tags": [
          "sessions"
        ],
        "operationId": "getSession",
        "summary": "One session.",
        "responses": {
          "200": {
            "description": "The session.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SessionInfo"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      },
      "delete": {
        "tags": [
          "sessions"
        ],
        "operationId": "revokeSession",
        "summary": "Revoke a session.",
        "responses": {
          "200": {
            "description": "Revoked.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "additionalProperties": false,
                  "required": [
                    "deleted",
                    "session_id"
                  ],
                  "properties": {
                    "deleted": {
                      "type": "string",
                      "const": "true"
                    },
                    "session_id": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/secrets": {
      "get": {
        "tags": [
          "secrets"
        ],
        "operationId": "listSecrets",
        "summary": "The tenant's secrets, names, dates and bindings, never values.",
        "responses": {
          "200": {
            "description": "The secrets.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SecretList"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "tags": [
          "secrets"
        ],
        "operationId": "storeSecretByBody",
        "summary": "Store a secret named in the body, as enclave 0.1.x did.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SecretValue"
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/SecretStored"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      }
    },
    "/secrets/{name}": {
      "parameters": [
        {
          "name": "name",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          }
        }
      ],
      "put": {
        "tags": [
          "secrets"
        ],
        "operationId": "storeSecret",
        "summary": "Store a secret, plain or sealed to the enclave's HPKE key; refused (403) for accounts with approvers.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SecretValue"
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/SecretStored"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          }
        }
      },
      "delete": {
        "tags": [
          "secrets"
        ],
        "operationId": "deleteSecret",
        "summary": "Delete a secret.",
        "responses": {
          "200": {
            "description": "Deleted.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "additionalProperties": false,
                  "required": [
                    "deleted"
                  ],
                  "properties": {
                    "deleted": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          }
        }
      }
    },
    "/me": {
      "get": {
        "tags": [
          "account"
        ],
        "operationId": "me",
        "summary": "The caller's tenant.",
        "responses": {
          "200": {
            "description": "The tenant.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TenantInfo"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/history": {
      "get": {
        "tags": [
          "jobs"
        ],
        "operationId": "history",
        "summary": "The tenant's executions, newest first.",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "How many (1 to 500; default 50; other values are clamped).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The executions.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/HistoryResponse"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/approvers": {
      "get": {
        "tags": [
          "account"
        ],
        "operationId": "listApprovers",
        "summary": "The account's approvers (passkeys).",
        "responses": {
          "200": {
            "description": "The approvers.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "additionalProperties": false,
                  "required": [
                    "approvers"
                  ],
                  "properties": {
                    "approvers": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/ApproverInfo"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      },
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "enrolApprover",
        "summary": "Enrol an approver; the first claims the account, later ones need an approver's `passkey`.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PasskeyEnrolment"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The approver.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ApproverInfo"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/approvers/challenge": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "approverChallenge",
        "summary": "The WebAuthn creation options for enrolling an approver.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PasskeyName"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What the page hands to `navigator.credentials.create`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChallengeReply"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/approvers/{id}": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "The approver's credential id (base64url).",
          "schema": {
            "type": "string"
          }
        }
      ],
      "delete": {
        "tags": [
          "account"
        ],
        "operationId": "revokeApprover",
        "summary": "Revoke an approver; needs an approver's passkey over `revoke_approver`.",
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/OwnerAction"
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Revoked"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/account/challenge": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "ownerChallenge",
        "summary": "The statement for an owner's action a passkey is about to allow.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/OwnerChallengeRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "What the page hands to `navigator.credentials.get`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChallengeReply"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/trusted": {
      "get": {
        "tags": [
          "account"
        ],
        "operationId": "listTrusted",
        "summary": "Code the account trusts to run without asking.",
        "responses": {
          "200": {
            "description": "The trusted code.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "additionalProperties": false,
                  "required": [
                    "trusted"
                  ],
                  "properties": {
                    "trusted": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/TrustedCodeInfo"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/trusted/{sha256}": {
      "parameters": [
        {
          "name": "sha256",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string"
          }
        }
      ],
      "delete": {
        "tags": [
          "account"
        ],
        "operationId": "untrust",
        "summary": "Stop trusting code; an approver's passkey when the account has approvers.",
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/OwnerAction"
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Revoked"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    },
    "/account/agent-key": {
      "post": {
        "tags": [
          "account"
        ],
        "operationId": "replaceAgentKey",
        "summary": "Revoke the agent key and issue a new one (an approver's passkey when the account has approvers).",
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/OwnerAction"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The new key.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SignupResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "agentKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <api_key>`, the agent key `POST /signup` returned (only its SHA-256 is stored)."
      },
      "orchestratorJWT": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "`Authorization: Bearer <JWT>`: HS256 (exactly; `none`, other algorithms and `crit` are a 401) over `{tenant_id, plan, iat, exp}` with the operator's secret; `exp` required, in the future and at most the configured lifetime ahead. `tenant_id` may not start with `tenant_` nor name an API-key account (403). Optional `X-Tenant-ID` must match; `X-Orchestrator-URL` makes approval links point at the orchestrator.\n"
      }
    },
    "parameters": {
      "RequestId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "A request id (`exec_…` or `scope_…`).",
        "schema": {
          "type": "string"
        }
      }
    },
    "headers": {
      "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "schema": {
          "type": "string"
        }
      },
      "Quota": {
        "description": "The limit or per-tenant quota that refused.",
        "schema": {
          "type": "string"
        }
      },
      "WWWAuthenticate": {
        "description": "`Bearer`.",
        "schema": {
          "type": "string"
        }
      }
    },
    "responses": {
      "Page": {
        "description": "An HTML page of the daemon's own (no external assets; a strict Content-Security-Policy).",
        "content": {
          "text/html": {
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "BadRequest": {
        "description": "The request is malformed; the message names the field or header problem (with `problems` for a skill header).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No credential, or one that is not valid.",
        "headers": {
          "WWW-Authenticate": {
            "$ref": "#/components/headers/WWWAuthenticate"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Forbidden": {
        "description": "The credential is valid but may not do this.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such thing for this caller (another tenant's ids answer the same).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "The request's state does not allow this (already decided, expired challenge, …).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooLarge": {
        "description": "The body is larger than the daemon accepts.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooMany": {
        "description": "A limit or per-tenant quota refused; nothing was stored.",
        "headers": {
          "Retry-After": {
            "$ref": "#/components/headers/RetryAfter"
          },
          "X-OAuth3-Quota": {
            "$ref": "#/components/headers/Quota"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unavailable": {
        "description": "The guest agent could not quote.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "BadRequestOrPage": {
        "description": "As `BadRequest`; an HTML error page for a browser or the page's form.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          },
          "text/html": {
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "ForbiddenOrPage": {
        "description": "As `Forbidden`; an HTML error page for a browser or the page's form.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          },
          "text/html": {
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "NotFoundOrPage": {
        "description": "As `NotFound`; an HTML error page for a browser or the page's form.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          },
          "text/html": {
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "ConflictOrPage": {
        "description": "As `Conflict`; an HTML error page for a browser or the page's form.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          },
          "text/html": {
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "SecretStored": {
        "description": "Stored, sealed under the vault key.",
        "content": {
          "application/json": {
            "schema": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "name",
                "stored"
              ],
              "properties": {
                "name": {
                  "type": "string"
                },
                "stored": {
                  "type": "string",
                  "const": "sealed"
                },
                "bound_to": {
                  "type": "string",
                  "description": "A bound secret's hosts (host:port), joined by commas."
                },
                "warnings": {
                  "$ref": "#/components/schemas/Warnings"
                }
              }
            }
          }
        }
      },
      "Revoked": {
        "description": "Revoked.",
        "content": {
          "application/json": {
            "schema": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "revoked"
              ],
              "properties": {
                "revoked": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "description": "Every error reply (OAuth3Wire `ErrorBody`).",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "string",
            "description": "What is wrong",
            "and where.": null
          },
          "problems": {
            "description": "For an invalid skill header, each problem with its line and tag.",
            "type": "array",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "line",
                "message"
              ],
              "properties": {
                "line": {
                  "type": "integer"
                },
                "tag": {
                  "type": "string"
                },
                "message": {
                  "type": "string"
                }
              }
            }
          },
          "quota": {
            "description": "For a 429, the limit or quota that refused.",
            "type": "string",
            "enum": [
              "queue",
              "pending_requests",
              "active_jobs",
              "long_polls",
              "stored_bytes"
            ]
          }
        }
      },
      "Warnings": {
        "description": "The request's top-level fields the daemon does not read; absent when there are none.",
        "type": "array",
        "minItems": 1,
        "items": {
          "type": "string"
        }
      },
      "Millis": {
        "description": "Unix time in milliseconds.",
        "type": "integer"
      },
      "StringList": {
        "type": "array",
        "items": {
          "type": "string"
        }
      },
      "HealthReport": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "status",
          "deno_version",
          "user_namespace",
          "cgroups",
          "vault_key_source",
          "workers",
          "running",
          "queued",
          "policy_sha256",
          "guest_agent",
          "app_id",
          "compose_hash"
        ],
        "properties": {
          "status": {
            "type": "string",
            "const": "ok"
          },
          "deno_version": {
            "type": "string"
          },
          "user_namespace": {
            "type": "boolean"
          },
          "cgroups": {
            "type": "string"
          },
          "vault_key_source": {
            "type": "string"
          },
          "workers": {
            "type": "integer"
          },
          "running": {
            "type": "integer"
          },
          "queued": {
            "type": "integer"
          },
          "policy_sha256": {
            "type": "string"
          },
          "guest_agent": {
            "type": "string",
            "description": "`dstack:/var/run/dstack.sock` or `development:…`."
          },
          "app_id": {
            "type": "string"
          },
          "compose_hash": {
            "type": "string"
          }
        }
      },
      "ReadinessReport": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "status",
          "checks"
        ],
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ready",
              "not_ready"
            ]
          },
          "checks": {
            "type": "array",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "name",
                "ok",
                "detail"
              ],
              "properties": {
                "name": {
                  "type": "string"
                },
                "ok": {
                  "type": "boolean"
                },
                "detail": {
                  "type": "string"
                }
              }
            }
          }
        }
      },
      "FreshAttestation": {
        "description": "report_data = SHA-512(\"oauth3-enclave/attestation/v1\" NUL ed25519 ‖ x25519 ‖ nonce).",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "format",
          "nonce",
          "signing_public_key",
          "hpke_public_key",
          "hpke_suite",
          "report_data",
          "quote",
          "event_log",
          "key_quote",
          "app_id",
          "compose_hash",
          "instance_id",
          "guest_agent"
        ],
        "properties": {
          "audit_head": {
            "description": "The audit log's head when the quote was taken, signed by the attested Ed25519 key over \"oauth3-enclave/audit-head-signed/v1\" NUL seq NUL hash NUL nonce (hex). A head whose seq is lower than one seen before means the database was rolled back (docs/design.md).",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "seq",
              "hash",
              "signature"
            ],
            "properties": {
              "seq": {
                "type": "integer"
              },
              "hash": {
                "type": "string",
                "description": "The last entry's chain hash",
                "hex.": null
              },
              "signature": {
                "type": "string",
                "description": "Ed25519",
                "hex.": null
              }
            }
          },
          "format": {
            "type": "string",
            "const": "oauth3-enclave/attestation/v1"
          },
          "nonce": {
            "type": "string"
          },
          "signing_public_key": {
            "type": "string",
            "description": "Ed25519",
            "hex.": null
          },
          "hpke_public_key": {
            "type": "string",
            "description": "X25519",
            "hex; seal secrets to it.": null
          },
          "hpke_suite": {
            "type": "string"
          },
          "report_data": {
            "type": "string"
          },
          "quote": {
            "type": "string",
            "description": "The TDX quote",
            "hex.": null
          },
          "event_log": {
            "type": "array"
          },
          "key_quote": {
            "type": "string",
            "description": "The quote taken at start over the keys",
            "hex.": null
          },
          "app_id": {
            "type": "string"
          },
          "compose_hash": {
            "type": "string"
          },
          "instance_id": {
            "type": "string"
          },
          "guest_agent": {
            "type": "string"
          }
        }
      },
      "SignupRequest": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string",
            "maxLength": 200,
            "description": "Printable (no control characters)."
          },
          "email": {
            "type": "string",
            "maxLength": 200,
            "description": "Printable (no control characters)."
          }
        }
      },
      "PasskeyName": {
        "description": "The name a passkey is enrolled under.",
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "1–100 printable characters (no control or format characters), spaces trimmed."
          }
        }
      },
      "SignupResponse": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "tenant_id",
          "api_key"
        ],
        "properties": {
          "tenant_id": {
            "type": "string"
          },
          "api_key": {
            "type": "string",
            "description": "Shown once."
          },
          "warnings": {
            "$ref": "#/components/schemas/Warnings"
          }
        }
      },
      "TenantInfo": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "tenant_id",
          "plan",
          "authentication",
          "created_at",
          "secrets",
          "jobs"
        ],
        "properties": {
          "tenant_id": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "plan": {
            "type": "string"
          },
          "authentication": {
            "type": "string",
            "enum": [
              "api_key",
              "jwt"
            ]
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "secrets": {
            "type": "integer"
          },
          "jobs": {
            "type": "integer"
          }
        }
      },
      "JSONScalar": {
        "description": "What a skill argument may be.",
        "type": [
          "string",
          "number",
          "boolean"
        ]
      },
      "ExecuteRequest": {
        "type": "object",
        "properties": {
          "skill_id": {
            "type": "string"
          },
          "skill_code": {
            "type": "string",
            "description": "The skill's TypeScript source; its header declares hosts and secrets."
          },
          "skill_url": {
            "type": "string",
            "description": "Refused with a 400 that says to send `skill_code` (the approver approves the code shown)."
          },
          "secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "args": {
            "type": "object",
            "description": "Named, non-secret values the skill reads as environment variables.",
            "additionalProperties": {
              "$ref": "#/components/schemas/JSONScalar"
            }
          },
          "session_id": {
            "type": "string"
          },
          "dry_run": {
            "type": "boolean"
          }
        }
      },
      "Status": {
        "type": "string",
        "enum": [
          "pending",
          "pending_scope",
          "approved",
          "executing",
          "awaiting_secrets",
          "completed",
          "failed",
          "denied"
        ]
      },
      "ExecutionStatus": {
        "description": "The reply to `POST /execute` and `POST /scope`, and the polled status (which adds the result and times).",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "request_id",
          "status"
        ],
        "properties": {
          "request_id": {
            "type": "string"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "session_id": {
            "type": "string"
          },
          "approval_url": {
            "type": "string",
            "description": "While a person must act (`pending`, `pending_scope`, `awaiting_secrets`)."
          },
          "status_url": {
            "type": "string"
          },
          "message": {
            "type": "string"
          },
          "policy_violations": {
            "$ref": "#/components/schemas/StringList"
          },
          "skill_id": {
            "type": "string"
          },
          "code_sha256": {
            "type": "string"
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "approved_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "executed_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "completed_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "approved_by": {
            "type": "string",
            "enum": [
              "human",
              "token",
              "trusted_code",
              "session_policy"
            ]
          },
          "missing_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "result": {
            "$ref": "#/components/schemas/Result"
          },
          "error": {
            "type": "string"
          },
          "warnings": {
            "$ref": "#/components/schemas/Warnings"
          }
        }
      },
      "Result": {
        "description": "A finished job's result (docs/skills.md lists its fields) and its `attestation`. Left open here beyond the fields every result has: the result is canonical JSON whose hash the attestation signs, and docs/attestation.md says how to verify it.\n",
        "type": "object",
        "required": [
          "attestation"
        ],
        "properties": {
          "outcome": {
            "type": "string"
          },
          "code_sha256": {
            "type": "string"
          },
          "policy_sha256": {
            "type": "string"
          },
          "attestation": {
            "type": "object",
            "required": [
              "format",
              "result_sha256",
              "signature",
              "public_key",
              "report_data",
              "quote",
              "event_log",
              "guest_agent"
            ],
            "properties": {
              "format": {
                "type": "string",
                "const": "oauth3-enclave/result-attestation/v1"
              },
              "result_sha256": {
                "type": "string"
              },
              "signature": {
                "type": "string"
              },
              "public_key": {
                "type": "string"
              },
              "report_data": {
                "type": "string"
              },
              "quote": {
                "type": "string"
              },
              "event_log": {
                "type": "array"
              },
              "guest_agent": {
                "type": "string"
              }
            }
          }
        }
      },
      "DryRunResult": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "dry_run",
          "would_auto_approve",
          "reason",
          "policy_gaps",
          "missing_secrets"
        ],
        "properties": {
          "dry_run": {
            "type": "boolean",
            "const": true
          },
          "would_auto_approve": {
            "type": "boolean"
          },
          "reason": {
            "type": "string",
            "enum": [
              "trusted_code",
              "session_policy",
              "policy_violation",
              "needs_approval"
            ]
          },
          "session_id": {
            "type": "string"
          },
          "policy_violations": {
            "$ref": "#/components/schemas/StringList"
          },
          "policy_gaps": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "new_secrets",
              "new_networks"
            ],
            "properties": {
              "new_secrets": {
                "$ref": "#/components/schemas/StringList"
              },
              "new_networks": {
                "$ref": "#/components/schemas/StringList"
              }
            }
          },
          "missing_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "warnings": {
            "$ref": "#/components/schemas/Warnings"
          }
        }
      },
      "ScopeRequest": {
        "type": "object",
        "required": [
          "description"
        ],
        "properties": {
          "description": {
            "type": "string",
            "minLength": 1
          },
          "constraints": {
            "$ref": "#/components/schemas/StringList"
          },
          "secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "networks": {
            "$ref": "#/components/schemas/StringList"
          },
          "session_id": {
            "type": "string"
          },
          "skill_code": {
            "type": "string",
            "description": "A skill the agent plans to run in the session",
            "shown to the approver.": null
          }
        }
      },
      "SessionPolicyView": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "description",
          "constraints",
          "allowed_secrets",
          "allowed_networks"
        ],
        "properties": {
          "description": {
            "type": "string"
          },
          "constraints": {
            "$ref": "#/components/schemas/StringList"
          },
          "allowed_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "allowed_networks": {
            "$ref": "#/components/schemas/StringList"
          },
          "approved_code": {
            "$ref": "#/components/schemas/StringList"
          },
          "any_code": {
            "type": "boolean"
          }
        }
      },
      "SessionInfo": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "session_id",
          "status",
          "created_at",
          "last_activity",
          "age_minutes",
          "idle_minutes",
          "runs",
          "policy"
        ],
        "properties": {
          "session_id": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "active",
              "revoked",
              "expired"
            ]
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "last_activity": {
            "$ref": "#/components/schemas/Millis"
          },
          "age_minutes": {
            "type": "integer"
          },
          "idle_minutes": {
            "type": "integer"
          },
          "runs": {
            "type": "integer"
          },
          "policy": {
            "$ref": "#/components/schemas/SessionPolicyView"
          },
          "expires_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "max_runs": {
            "type": "integer"
          }
        }
      },
      "SessionList": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "sessions"
        ],
        "properties": {
          "sessions": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/SessionInfo"
            }
          }
        }
      },
      "SealedValue": {
        "description": "HPKE (X25519-HKDF-SHA256, HKDF-SHA256, ChaCha20-Poly1305) to the key of `/v1/attestation`; info binds tenant and name.",
        "type": "object",
        "required": [
          "enc",
          "ciphertext"
        ],
        "properties": {
          "enc": {
            "type": "string",
            "description": "The encapsulated key",
            "hex.": null
          },
          "ciphertext": {
            "type": "string",
            "description": "Hex."
          }
        }
      },
      "SecretValue": {
        "description": "Exactly one of `value` and `sealed`. With `hosts`, the secret is bound: a job receives a placeholder, and the egress proxy puts the value in request headers to these hosts only.",
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "value": {
            "type": "string"
          },
          "sealed": {
            "$ref": "#/components/schemas/SealedValue"
          },
          "hosts": {
            "type": "array",
            "items": {
              "type": "string",
              "description": "A host as @network writes it (host or host:port)."
            }
          },
          "placement": {
            "type": "string",
            "enum": [
              "header"
            ]
          }
        }
      },
      "SecretBinding": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "hosts",
          "placement"
        ],
        "properties": {
          "hosts": {
            "$ref": "#/components/schemas/StringList"
          },
          "placement": {
            "type": "string",
            "enum": [
              "header"
            ]
          }
        }
      },
      "SecretInfo": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "updated_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "binding": {
            "$ref": "#/components/schemas/SecretBinding"
          }
        }
      },
      "SecretList": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "secrets"
        ],
        "properties": {
          "secrets": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/SecretInfo"
            }
          }
        }
      },
      "HistoryEntry": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "request_id",
          "skill_id",
          "code_sha256",
          "status",
          "created_at"
        ],
        "properties": {
          "request_id": {
            "type": "string"
          },
          "skill_id": {
            "type": "string"
          },
          "code_sha256": {
            "type": "string"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "approved_by": {
            "type": "string"
          },
          "outcome": {
            "type": "string"
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "completed_at": {
            "$ref": "#/components/schemas/Millis"
          }
        }
      },
      "HistoryResponse": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "history"
        ],
        "properties": {
          "history": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/HistoryEntry"
            }
          }
        }
      },
      "ScopeOptions": {
        "type": "object",
        "properties": {
          "any_code": {
            "type": "boolean"
          },
          "expires_in_minutes": {
            "type": "integer"
          },
          "max_runs": {
            "type": "integer"
          }
        }
      },
      "PasskeyAssertion": {
        "description": "A WebAuthn assertion (base64url) and the nonce of the challenge it answers.",
        "type": "object",
        "required": [
          "nonce",
          "credential_id",
          "authenticator_data",
          "client_data_json",
          "signature"
        ],
        "properties": {
          "nonce": {
            "type": "string"
          },
          "credential_id": {
            "type": "string"
          },
          "authenticator_data": {
            "type": "string"
          },
          "client_data_json": {
            "type": "string"
          },
          "signature": {
            "type": "string"
          }
        }
      },
      "ApprovalDecision": {
        "type": "object",
        "required": [
          "token",
          "action"
        ],
        "properties": {
          "token": {
            "type": "string"
          },
          "action": {
            "type": "string",
            "enum": [
              "approve",
              "deny"
            ]
          },
          "level": {
            "type": "string",
            "enum": [
              "once",
              "trust_code"
            ]
          },
          "secrets": {
            "type": "object",
            "description": "Values for the job's missing secrets.",
            "additionalProperties": {
              "type": "string"
            }
          },
          "secret_hosts": {
            "type": "object",
            "description": "Hosts to bind supplied secrets to (not yet with a passkey, which does not sign them).",
            "additionalProperties": {
              "$ref": "#/components/schemas/StringList"
            }
          },
          "options": {
            "$ref": "#/components/schemas/ScopeOptions"
          },
          "passkey": {
            "$ref": "#/components/schemas/PasskeyAssertion"
          }
        }
      },
      "ApprovalForm": {
        "description": "The page's form: `token`, `decision` (or `action`/`level`), `secrets[NAME]`, `secret_hosts[NAME]`, scope options.",
        "type": "object",
        "required": [
          "token"
        ],
        "properties": {
          "token": {
            "type": "string"
          },
          "decision": {
            "type": "string",
            "enum": [
              "approve_once",
              "trust_code",
              "deny"
            ]
          },
          "action": {
            "type": "string"
          },
          "level": {
            "type": "string"
          },
          "any_code": {
            "type": "string"
          },
          "expires_in_minutes": {
            "type": "string"
          },
          "max_runs": {
            "type": "string"
          }
        }
      },
      "EnclaveIdentity": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "app_id",
          "compose_hash",
          "development"
        ],
        "properties": {
          "app_id": {
            "type": "string"
          },
          "compose_hash": {
            "type": "string"
          },
          "development": {
            "type": "boolean",
            "description": "Quotes come from the development guest agent (which proves nothing about hardware)."
          }
        }
      },
      "ApprovalRequest": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "status",
          "kind",
          "networks",
          "secrets",
          "missing_secrets",
          "created_at"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "kind": {
            "type": "string",
            "enum": [
              "execute",
              "scope"
            ]
          },
          "skill_id": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "code": {
            "type": "string"
          },
          "code_sha256": {
            "type": "string"
          },
          "networks": {
            "$ref": "#/components/schemas/StringList"
          },
          "secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "missing_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "constraints": {
            "$ref": "#/components/schemas/StringList"
          },
          "session_id": {
            "type": "string"
          },
          "timeout_seconds": {
            "type": "integer"
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "tenant_id": {
            "type": "string"
          },
          "account_name": {
            "type": "string"
          },
          "args": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          },
          "enclave": {
            "$ref": "#/components/schemas/EnclaveIdentity"
          },
          "passkey_required": {
            "type": "boolean"
          },
          "secret_bindings": {
            "type": "object",
            "additionalProperties": {
              "$ref": "#/components/schemas/SecretBinding"
            }
          }
        }
      },
      "ApprovalOutcome": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "status"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "message": {
            "type": "string"
          },
          "session_id": {
            "type": "string"
          },
          "missing_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "warnings": {
            "$ref": "#/components/schemas/Warnings"
          }
        }
      },
      "ChallengeRequest": {
        "type": "object",
        "required": [
          "action"
        ],
        "properties": {
          "token": {
            "type": "string"
          },
          "action": {
            "type": "string"
          },
          "level": {
            "type": "string"
          },
          "supplied_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "options": {
            "$ref": "#/components/schemas/ScopeOptions"
          }
        }
      },
      "ConsentStatement": {
        "description": "What a passkey signs; its digest is SHA-256(\"oauth3-enclave/consent/v1\" NUL canonical JSON).",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "purpose",
          "tenant_id",
          "subject",
          "hosts",
          "secrets",
          "supplied_secrets",
          "args",
          "nonce",
          "issued_at"
        ],
        "properties": {
          "purpose": {
            "type": "string",
            "enum": [
              "decide",
              "enrol_approver",
              "revoke_approver",
              "revoke_trusted_code",
              "replace_agent_key"
            ]
          },
          "tenant_id": {
            "type": "string"
          },
          "subject": {
            "type": "string"
          },
          "decision": {
            "type": "string"
          },
          "level": {
            "type": "string"
          },
          "code_sha256": {
            "type": "string"
          },
          "hosts": {
            "$ref": "#/components/schemas/StringList"
          },
          "secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "supplied_secrets": {
            "$ref": "#/components/schemas/StringList"
          },
          "args": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          },
          "timeout_seconds": {
            "type": "integer"
          },
          "any_code": {
            "type": "boolean"
          },
          "expires_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "max_runs": {
            "type": "integer"
          },
          "nonce": {
            "type": "string"
          },
          "issued_at": {
            "$ref": "#/components/schemas/Millis"
          }
        }
      },
      "ChallengeReply": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "nonce",
          "challenge",
          "rp_id",
          "allow_credentials",
          "timeout_ms"
        ],
        "properties": {
          "nonce": {
            "type": "string"
          },
          "challenge": {
            "type": "string",
            "description": "base64url of the statement's digest (random bytes for an enrolment)."
          },
          "rp_id": {
            "type": "string"
          },
          "statement": {
            "$ref": "#/components/schemas/ConsentStatement"
          },
          "allow_credentials": {
            "$ref": "#/components/schemas/StringList"
          },
          "user_id": {
            "type": "string"
          },
          "user_name": {
            "type": "string"
          },
          "timeout_ms": {
            "type": "integer"
          }
        }
      },
      "PasskeyEnrolment": {
        "type": "object",
        "required": [
          "nonce",
          "attestation_object",
          "client_data_json"
        ],
        "properties": {
          "nonce": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "attestation_object": {
            "type": "string"
          },
          "client_data_json": {
            "type": "string"
          },
          "passkey": {
            "$ref": "#/components/schemas/PasskeyAssertion"
          }
        }
      },
      "ApproverInfo": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "credential_id",
          "name",
          "algorithm",
          "created_at"
        ],
        "properties": {
          "credential_id": {
            "type": "string"
          },
          "name": {
            "type": "string"
          },
          "algorithm": {
            "type": "integer",
            "description": "COSE: -7 ES256, -8 EdDSA."
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          }
        }
      },
      "OwnerChallengeRequest": {
        "type": "object",
        "required": [
          "purpose",
          "subject"
        ],
        "properties": {
          "purpose": {
            "type": "string",
            "enum": [
              "enrol_approver",
              "revoke_approver",
              "revoke_trusted_code",
              "replace_agent_key"
            ]
          },
          "subject": {
            "type": "string"
          }
        }
      },
      "OwnerAction": {
        "type": "object",
        "properties": {
          "passkey": {
            "$ref": "#/components/schemas/PasskeyAssertion"
          }
        }
      },
      "TrustedCodeInfo": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "code_sha256",
          "created_at",
          "runs",
          "by_passkey"
        ],
        "properties": {
          "code_sha256": {
            "type": "string"
          },
          "created_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "expires_at": {
            "$ref": "#/components/schemas/Millis"
          },
          "max_runs": {
            "type": "integer"
          },
          "runs": {
            "type": "integer"
          },
          "by_passkey": {
            "type": "boolean"
          }
        }
      }
    }
  }
}
"""##
}
