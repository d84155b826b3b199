// Compile-time proof that the generated client types Rivet's closed sets as
// unions of their values: each `@ts-expect-error` line must fail to type-check,
// and `tsc` fails if one of them does not (an unused `@ts-expect-error` is an
// error). Nothing here runs.

import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type CreateTodo = paths["/api/v1/todos"]["post"]["requestBody"]["content"]["application/json"];

export const statuses: Schemas["TodoStatus"][] = ["pending", "in_progress", "done"];
export const priorities: Schemas["TodoPriority"][] = ["low", "medium", "high", "urgent"];
export const role: Schemas["Role"] = "admin";
export const scope: Schemas["Scope"] = "todos:read";
export const currency: Schemas["Currency"] = "EUR";

// @ts-expect-error "finished" is not a todo status
export const wrongStatus: Schemas["TodoStatus"] = "finished";
// @ts-expect-error "critical" is not a priority
export const wrongPriority: Schemas["TodoPriority"] = "critical";
// @ts-expect-error "owner" is not a role
export const wrongRole: Schemas["Role"] = "owner";
// @ts-expect-error "XYZ" is not an ISO 4217 currency code
export const wrongCurrency: Schemas["Currency"] = "XYZ";
// @ts-expect-error a request body with a wrong status does not type-check
export const wrongBody: CreateTodo = { title: "t", status: "finished" };
