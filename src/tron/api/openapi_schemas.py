"""JSON Schemas of the bodies trond sends (Tron's shapes, spec 8.2), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "nullable": True, "example": "2026-03-01 12:00:00"}
STRINGS: Schema = {"type": "array", "items": STRING}
OBJECT: Schema = {"type": "object"}


# What each error status of the API means, for the responses' descriptions.
ERROR_TEXT = {
    400: "bad parameters or body",
    401: "a bearer token is required (trond bound beyond loopback)",
    403: "a Host trond does not serve, or a state change from another web origin",
    404: "no such job, run, action or path",
    405: "method not allowed",
    409: "not possible in the object's current state, or a stale config hash",
    413: "body too large",
    415: "body is not form-encoded (nor multipart or a JSON object)",
    501: "unknown command for this object (Tron's status for it)",
    503: "the state store failed; the old config stays in effect",
    507: "the disk (or the store) is full; the old config stays in effect",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def record(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these keys (those in `optional` may be absent)."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def nullable_ref(name: str) -> Schema:
    return {"allOf": [ref(name)], "nullable": True}


NODE = record({"name": STRING, "hostname": STRING, "username": STRING, "port": INTEGER})

ATTEMPT = record(
    {
        "number": INTEGER,
        "command": nullable(STRING),
        "node": nullable(STRING),
        "start_time": TIME,
        "end_time": TIME,
        "exit_status": nullable(INTEGER),
        "reason": nullable(STRING),
    }
)

# Ours: each manual command, whether it would be accepted now and, if not, why (on a run and
# on an action run's own endpoint, not on the action runs listed in a run).
COMMANDS: Schema = {
    "type": "object",
    "additionalProperties": record({"allowed": BOOLEAN, "reason": nullable(STRING)}),
}

ACTION_RUN = record(
    {
        "id": STRING,
        "start_time": TIME,
        "end_time": TIME,
        "exit_status": nullable(INTEGER),
        "action_name": STRING,
        "exit_statuses": {"type": "array", "items": INTEGER},
        "retries_remaining": nullable(INTEGER),
        "original_command": STRING,
        "state": STRING,
        "node": nullable_ref("Node"),
        "command": nullable(STRING),
        "raw_command": STRING,
        "requirements": nullable(STRINGS),
        "meta": nullable(STRINGS),
        "stdout": nullable(STRINGS),
        "stderr": nullable(STRINGS),
        "duration": STRING,
        "job_name": STRING,
        "run_num": STRING,
        "retries_delay": nullable(STRING),
        "in_delay": nullable(NUMBER),
        "triggered_by": STRING,
        "trigger_downstreams": STRING,
        "reason": nullable(STRING),
        "attempts": {"type": "array", "items": ref("Attempt")},
        "commands": COMMANDS,
    },
    optional=("reason", "attempts", "commands"),
)

RUN_GRAPH_NODE = record(
    {
        "id": STRING,
        "name": STRING,
        "command": nullable(STRING),
        "raw_command": STRING,
        "state": STRING,
        "start_time": TIME,
        "end_time": TIME,
        "dependencies": STRINGS,
    }
)

JOB_RUN = record(
    {
        "id": STRING,
        "run_num": INTEGER,
        "run_time": TIME,
        "start_time": TIME,
        "end_time": TIME,
        "manual": BOOLEAN,
        "job_name": STRING,
        "state": STRING,
        "node": nullable_ref("Node"),
        "duration": STRING,
        "url": STRING,
        "runs": nullable({"type": "array", "items": ref("ActionRun")}),
        "action_graph": nullable({"type": "array", "items": ref("RunGraphNode")}),
        "commands": COMMANDS,
    },
    optional=("commands",),
)

JOB = record(
    {
        "status": {"type": "string", "enum": ["enabled", "disabled", "running", "unknown"]},
        "all_nodes": BOOLEAN,
        "allow_overlap": BOOLEAN,
        "queueing": BOOLEAN,
        "name": STRING,
        "scheduler": record({"value": STRING, "type": STRING, "jitter": STRING}),
        "action_names": STRINGS,
        "node_pool": nullable(
            record({"name": nullable(STRING), "nodes": {"type": "array", "items": ref("Node")}})
        ),
        "last_success": TIME,
        "next_run": TIME,
        "url": STRING,
        "runs": nullable({"type": "array", "items": ref("JobRun")}),
        "max_runtime": STRING,
        "action_graph": nullable(
            {
                "type": "array",
                "items": record({"name": STRING, "command": STRING, "dependencies": STRINGS}),
            }
        ),
        "monitoring": {"type": "object"},
        "expected_runtime": NUMBER,
        "actions_expected_runtime": {"type": "object", "additionalProperties": NUMBER},
    }
)

PROBLEM = record({"file": STRING, "line": INTEGER, "key_path": STRING, "message": STRING})

ERROR = record(
    {
        "error": STRING,
        "status": STRING,
        "problems": {"type": "array", "items": ref("Problem")},
    },
    optional=("status", "problems"),
)

NAMESPACE_TEXT = record({"config": STRING, "hash": STRING})

METRICS_JSON = record(
    {
        kind: {"type": "array", "items": {"type": "object", "required": ["name"]}}
        for kind in ("counter", "gauge", "histogram", "meter", "timer")
    }
)

SCHEMAS: dict[str, Schema] = {
    "Node": NODE,
    "Attempt": ATTEMPT,
    "ActionRun": ACTION_RUN,
    "RunGraphNode": RUN_GRAPH_NODE,
    "JobRun": JOB_RUN,
    "Job": JOB,
    "Problem": PROBLEM,
    "Error": ERROR,
    "NamespaceText": NAMESPACE_TEXT,
    "Index": record(
        {
            "jobs": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": record({"name": STRING, "command": STRING}),
                },
            },
            "namespaces": STRINGS,
        }
    ),
    "Status": record(
        {
            "status": STRING,
            "version": STRING,
            "boot_time": INTEGER,
            # Ours: who leads when several trond share one database (postgres).
            "role": {"type": "string", "enum": ["leader", "standby"]},
            "leader": nullable(STRING),
            "epoch": nullable(INTEGER),
            "lease_age": nullable({"type": "number"}),
            "holder": nullable(STRING),
            "stale_seconds": {"type": "number"},
        },
        optional=("leader", "epoch", "lease_age", "holder", "stale_seconds"),
    ),
    "Jobs": record({"jobs": {"type": "array", "items": ref("Job")}}),
    # `refused` (ours) is there, true, when trond refused a command Tron answers with 200.
    "Result": record({"result": STRING, "refused": BOOLEAN}, optional=("refused",)),
    # `summary`: the changes as tronfig prints them, one line each (ours, for the web editor).
    "ConfigAccepted": record(
        {"status": STRING, "changes": ref("ConfigChanges"), "summary": STRINGS},
        optional=("summary",),
    ),
    # What an upload changes (ours): jobs by full name, MASTER settings, pending-run notes.
    "ConfigChanges": record(
        {
            "namespace": STRING,
            "added": STRINGS,
            "removed": STRINGS,
            "changed": {"type": "object", "additionalProperties": STRINGS},
            "settings": {
                "type": "object",
                "additionalProperties": record(
                    {
                        "change": {"type": "string", "enum": ["added", "removed", "changed"]},
                        "lost": STRINGS,
                    }
                ),
            },
            "removed_settings": STRINGS,
            "notes": STRINGS,
            "version": nullable(INTEGER),
        }
    ),
    "AllNamespaces": {"type": "object", "additionalProperties": ref("NamespaceText")},
    "ConfigVersion": record(
        {
            "version": INTEGER,
            "namespace": STRING,
            "hash": STRING,
            "saved_at": STRING,
            "config": STRING,
        }
    ),
    "EventResponse": record(
        {"response": {"oneOf": [STRING, {"type": "object", "additionalProperties": record({})}]}}
    ),
    "Output": record({"data": STRING, "offset": INTEGER, "done": BOOLEAN, "state": STRING}),
    "OutputMatches": record(
        {
            "matches": {
                "type": "array",
                "items": record({"line": INTEGER, "text": STRING}),
            },
            "next_offset": INTEGER,
            "truncated": BOOLEAN,
            "timed_out": BOOLEAN,
        }
    ),
    "JobSearch": record(
        {
            "runs": {
                "type": "array",
                "items": record(
                    {
                        "run": STRING,
                        "actions": {
                            "type": "array",
                            "items": record(
                                {
                                    "action": STRING,
                                    "stream": {"type": "string", "enum": ["stdout", "stderr"]},
                                    "matches": INTEGER,
                                }
                            ),
                        },
                    }
                ),
            },
            "searched_runs": INTEGER,
            "truncated": BOOLEAN,
            "timed_out": BOOLEAN,
        }
    ),
    "RunsPage": record(
        {
            "runs": {"type": "array", "items": ref("RunSummary")},
            "total": INTEGER,
            "next_offset": nullable(INTEGER),
        }
    ),
    "RunSummary": record(
        {
            "id": STRING,
            "job": STRING,
            "run_num": INTEGER,
            "state": STRING,
            "run_time": STRING,
            "start_time": nullable(STRING),
            "end_time": nullable(STRING),
            "manual": BOOLEAN,
        }
    ),
    "Recent": record(
        {
            "fields": {"type": "array", "items": STRING},
            "jobs": {
                "type": "object",
                "additionalProperties": record(
                    {"runs": {"type": "array", "items": {}}, "success_rate": nullable(NUMBER)}
                ),
            },
        }
    ),
    "Grid": record(
        {
            "job": STRING,
            "actions": {"type": "array", "items": STRING},
            "fields": {"type": "array", "items": STRING},
            "expected_runtime": NUMBER,
            "total_runs": INTEGER,
            "runs": {
                "type": "array",
                "items": record({"run": {"type": "array", "items": {}}, "actions": OBJECT}),
            },
        }
    ),
    "TronMetrics": METRICS_JSON,
    "StreamTicket": record({"ticket": STRING, "expires_in": INTEGER}),
}
