// A user's day through the TypeScript client that openapi-typescript
// generates from Rivet's OpenAPI document, called through openapi-fetch:
// register, log in, create todos with tags, list with a filter and a cursor,
// a conditional read (304), a conditional update, a stale update (412 as a
// typed Problem), delete, and the product catalogue without a token.
//
// Usage: RIVET_BASE=http://127.0.0.1:8080 node dist/flow.js (the catalogue
// must hold a product: scripts/live-checks.sh creates one first).

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];
type Todo = components["schemas"]["Todo"];
type TodoStatus = components["schemas"]["TodoStatus"];

const baseUrl = process.env.RIVET_BASE ?? "http://127.0.0.1:8080";

function check(condition: unknown, what: string): asserts condition {
  if (!condition) {
    throw new Error(`client flow: ${what}`);
  }
}

function etagOf(response: Response, what: string): string {
  const tag = response.headers.get("etag");
  check(tag !== null && /^"v\d+"$/.test(tag), `${what} carries a strong ETag (got ${tag})`);
  return tag;
}

// Rivet's array filters (`status=pending,done`) are `explode: false`.
const options = { baseUrl, querySerializer: { array: { style: "form", explode: false } } } as const;
const anonymous = createClient<paths>(options);
const email = `ts-client-${Date.now()}-${process.pid}@example.com`;
const password = "a client's long passphrase";

const registered = await anonymous.POST("/api/v1/auth/register", {
  body: { email, password, full_name: "TypeScript Client" },
});
check(registered.response.status === 201, `register answers 201 (got ${registered.response.status})`);
check(registered.data?.email === email, "register returns the account");
check(registered.data.role === "user", "a new account has the user role");

const login = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
check(login.data !== undefined, `log in succeeds (got ${login.response.status})`);
check(login.data.token_type === "Bearer", "the token type is Bearer");
const access = login.data.access_token;

const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${access}`);
    return request;
  },
};
const client = createClient<paths>(options);
client.use(bearer);

const created: Todo[] = [];
const etags = new Map<string, string>();
for (const [title, status] of [
  ["Write the report", "pending"],
  ["Review the draft", "in_progress"],
  ["Send the invoice", "pending"],
] as const satisfies ReadonlyArray<readonly [string, TodoStatus]>) {
  const r = await client.POST("/api/v1/todos", {
    body: { title, status, priority: "high", tags: ["client", "typescript"] },
  });
  check(r.response.status === 201 && r.data !== undefined, `create answers 201 (got ${r.response.status})`);
  check(r.data.status === status && r.data.tags.includes("typescript"), "the todo is stored as sent");
  created.push(r.data);
  etags.set(r.data.id, etagOf(r.response, "a created todo"));
}
const untagged = await client.POST("/api/v1/todos", { body: { title: "Not in the filter" } });
check(untagged.response.status === 201, "an untagged todo is created");

// A filtered list, two pages by cursor: every tagged todo once, no other.
const seen: string[] = [];
const first = await client.GET("/api/v1/todos", {
  params: { query: { tag: "typescript", status: ["pending", "in_progress"], limit: 2, sort: "created_at" } },
});
check(first.data !== undefined, `list answers 200 (got ${first.response.status})`);
check(first.data.items.length === 2, "the first page holds two todos");
check(typeof first.data.next_cursor === "string", "the first page links to the next");
seen.push(...first.data.items.map((t) => t.id));
const second = await client.GET("/api/v1/todos", {
  params: {
    query: {
      tag: "typescript",
      status: ["pending", "in_progress"],
      limit: 2,
      sort: "created_at",
      cursor: first.data.next_cursor,
    },
  },
});
check(second.data !== undefined, `the second page answers 200 (got ${JSON.stringify(second.error)})`);
check(second.data.next_cursor === null, "the second page is the last");
seen.push(...second.data.items.map((t) => t.id));
const expected = created.map((t) => t.id);
check(
  seen.length === expected.length && expected.every((id) => seen.includes(id)),
  `the two pages list each tagged todo once (got ${seen.join(", ")})`,
);

const target = created[0];
check(target !== undefined, "a todo was created");
const path = { id: target.id };
const tag = etags.get(target.id);
check(tag !== undefined, "the created todo's ETag was kept");

const fresh = await client.GET("/api/v1/todos/{id}", {
  params: { path, header: { "If-None-Match": tag } },
});
check(fresh.response.status === 304, `a read naming the current ETag answers 304 (got ${fresh.response.status})`);

const updated = await client.PATCH("/api/v1/todos/{id}", {
  params: { path, header: { "If-Match": tag } },
  body: { status: "done" },
});
check(updated.data !== undefined, `an update with the current ETag succeeds (got ${updated.response.status})`);
check(updated.data.status === "done" && updated.data.completed_at !== null, "the todo is done, with a completion time");
check(updated.data.version === target.version + 1, "the version moved on by one");
const newTag = etagOf(updated.response, "an updated todo");
check(newTag !== tag, "the ETag changed with the version");

const stale = await client.PATCH("/api/v1/todos/{id}", {
  params: { path, header: { "If-Match": tag } },
  body: { title: "Lost update" },
});
check(stale.response.status === 412, `a stale If-Match answers 412 (got ${stale.response.status})`);
check(stale.error !== undefined, "the 412 carries a problem");
const problem: Problem = stale.error;
check(problem.code === "precondition_failed" && problem.status === 412, `a typed Problem (got ${JSON.stringify(problem)})`);
check(
  stale.response.headers.get("content-type")?.startsWith("application/problem+json") === true,
  "the problem is application/problem+json",
);

const deleted = await client.DELETE("/api/v1/todos/{id}", { params: { path, header: { "If-Match": newTag } } });
check(deleted.response.status === 204, `delete answers 204 (got ${deleted.response.status})`);
const gone = await client.GET("/api/v1/todos/{id}", { params: { path } });
check(gone.response.status === 404 && gone.error?.code === "not_found", "a deleted todo is 404 not_found");

const catalogue = await anonymous.GET("/api/v1/products", { params: { query: { limit: 5 } } });
check(catalogue.data !== undefined, `the catalogue is public (got ${catalogue.response.status})`);
check(catalogue.data.items.length >= 1 && catalogue.data.items.length <= 5, "a page of one to five products");
check(catalogue.data.items.every((p) => p.currency.length === 3), "each product has its currency");

console.log(
  `typescript client: flow passed against ${baseUrl} (${created.length + 1} todos, ` +
    `${catalogue.data.items.length} products listed anonymously)`,
);
