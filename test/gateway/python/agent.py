"""A Python agent on the official `openai` client, pointed at the Bulwark gateway (test/gateway/python.test.ts).

Runs each scenario against the aliases the test's config routes and prints one JSON object with what
the client saw; the TypeScript test checks it against what the fault server behind the gateway saw.
"""
import json
import os

import openai
from openai import OpenAI

# Pointing a Python agent at the gateway: these three lines (docs/gateway.md).
client = OpenAI(base_url=os.environ["GATEWAY_URL"] + "/v1", api_key=os.environ["GATEWAY_KEY"])
reply = client.chat.completions.create(model="support-agent", messages=[{"role": "user", "content": "Hello from Python"}])
print("python agent:", reply.choices[0].message.content, flush=True)

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
out = {"openai_version": openai.__version__}


def facts(headers):
    return {k: headers.get(k) for k in ("x-bulwark-tier", "x-bulwark-target", "x-bulwark-fallback", "x-bulwark-attempts")}


# 1. chat
raw = client.chat.completions.with_raw_response.create(model="support-agent", messages=USER)
c = raw.parse()
out["chat"] = {
    "text": c.choices[0].message.content,
    "finish_reason": c.choices[0].finish_reason,
    "model": c.model,
    "total_tokens": c.usage.total_tokens,
    "facts": facts(raw.headers),
}

# 2. stream (with usage in the last chunk)
parts, finish, usage, chunks = [], None, None, 0
for chunk in client.chat.completions.create(model="support-agent", messages=USER, stream=True, stream_options={"include_usage": True}):
    chunks += 1
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
    for choice in chunk.choices:
        if choice.delta.content:
            parts.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
out["stream"] = {"text": "".join(parts), "finish_reason": finish, "total_tokens": usage, "chunks": chunks}

# 3. tools: the model calls a tool, the agent answers it, the model replies
first = client.chat.completions.create(model="tools-agent", messages=USER, tools=TOOLS)
call = first.choices[0].message.tool_calls[0]
second = client.chat.completions.create(
    model="tools-agent",
    messages=USER
    + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature_c": 21})},
    ],
    tools=TOOLS,
)
out["tools"] = {
    "finish_reason": first.choices[0].finish_reason,
    "call": {"id": call.id, "name": call.function.name, "arguments": json.loads(call.function.arguments)},
    "answer": second.choices[0].message.content,
}

# 4. failover: the primary answers 500, the backup (another provider) answers; chat and stream
raw = client.chat.completions.with_raw_response.create(model="failover-agent", messages=USER)
out["failover"] = {"text": raw.parse().choices[0].message.content, "facts": facts(raw.headers)}
parts = []
for chunk in client.chat.completions.create(model="failover-agent", messages=USER, stream=True):
    for choice in chunk.choices:
        if choice.delta.content:
            parts.append(choice.delta.content)
out["failover_stream"] = {"text": "".join(parts)}

# 5. the aliases, and the errors a client must be able to tell apart
out["models"] = sorted(m.id for m in client.models.list())
try:
    OpenAI(base_url=os.environ["GATEWAY_URL"] + "/v1", api_key="not-a-gateway-key", max_retries=0).chat.completions.create(model="support-agent", messages=USER)
    out["bad_key"] = "answered"
except openai.AuthenticationError as e:
    out["bad_key"] = {"status": e.status_code}
try:
    client.chat.completions.create(model="no-such-alias", messages=USER)
    out["unknown_model"] = "answered"
except openai.NotFoundError as e:
    out["unknown_model"] = {"status": e.status_code}

print("RESULT " + json.dumps(out), flush=True)
