"""A user's day through the Python client that openapi-python-client
generates from Rivet's OpenAPI document: register, log in, create todos with
tags, list with a filter and a cursor, a conditional read (304), a
conditional update, a stale update (412 as a typed Problem), delete, and the
product catalogue without a token.

Usage: RIVET_BASE=http://127.0.0.1:8080 python flow.py, with the generated
package `rivet_client` on PYTHONPATH (scripts/live-checks.sh generates it and
creates a product first, so the catalogue is not empty).
"""

import os
import re
import time
from typing import TypeVar, cast

from rivet_client import AuthenticatedClient, Client
from rivet_client.api.auth import login, register
from rivet_client.api.products import list_products
from rivet_client.api.todos import create_todo, delete_todo, get_todo, list_todos, update_todo
from rivet_client.models import (
    CreateTodo,
    Login,
    Problem,
    ProductPage,
    Register,
    Role,
    Todo,
    TodoPage,
    TodoPriority,
    TodoStatus,
    TokenPair,
    TokenType,
    UpdateTodo,
    User,
)
from rivet_client.types import Response

BASE = os.environ.get("RIVET_BASE", "http://127.0.0.1:8080")
T = TypeVar("T")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"python client flow: {what}")


def etag_of(response: Response[T], what: str) -> str:
    tag = response.headers.get("etag")
    check(tag is not None and re.fullmatch(r'"v\d+"', tag) is not None, f"{what} carries a strong ETag (got {tag})")
    assert tag is not None
    return tag


def main() -> None:
    anonymous = Client(base_url=BASE)
    email = f"py-client-{time.time_ns()}@example.com"
    password = "a client's long passphrase"

    registered = register.sync_detailed(client=anonymous, body=Register(email=email, password=password))
    check(registered.status_code == 201, f"register answers 201 (got {registered.status_code})")
    user = registered.parsed
    check(isinstance(user, User) and user.email == email, "register returns the account")
    assert isinstance(user, User)
    check(user.role is Role.USER, f"a new account has the user role, as an enum member (got {user.role!r})")

    tokens = login.sync(client=anonymous, body=Login(email=email, password=password))
    check(isinstance(tokens, TokenPair), f"log in returns a token pair (got {tokens!r})")
    assert isinstance(tokens, TokenPair)
    check(tokens.token_type is TokenType.BEARER, "the token type is Bearer")
    client = AuthenticatedClient(base_url=BASE, token=tokens.access_token)

    created: list[Todo] = []
    etags: dict[str, str] = {}
    for title, status in [
        ("Write the report", TodoStatus.PENDING),
        ("Review the draft", TodoStatus.IN_PROGRESS),
        ("Send the invoice", TodoStatus.PENDING),
    ]:
        body = CreateTodo(title=title, status=status, priority=TodoPriority.HIGH, tags=["client", "python"])
        r = create_todo.sync_detailed(client=client, body=body)
        check(r.status_code == 201 and isinstance(r.parsed, Todo), f"create answers 201 (got {r.status_code})")
        assert isinstance(r.parsed, Todo)
        check(r.parsed.status is status and "python" in r.parsed.tags, "the todo is stored as sent")
        created.append(r.parsed)
        etags[str(r.parsed.id)] = etag_of(r, "a created todo")
    untagged = create_todo.sync_detailed(client=client, body=CreateTodo(title="Not in the filter"))
    check(untagged.status_code == 201, "an untagged todo is created")

    # A filtered list, two pages by cursor: every tagged todo once, no other.
    wanted = [TodoStatus.PENDING, TodoStatus.IN_PROGRESS]
    first = list_todos.sync(client=client, tag="python", status=wanted, limit=2, sort="created_at")
    check(isinstance(first, TodoPage), f"list answers a page (got {first!r})")
    assert isinstance(first, TodoPage)
    check(len(first.items) == 2 and isinstance(first.next_cursor, str), "the first page holds two and links on")
    assert isinstance(first.next_cursor, str)
    second = list_todos.sync(
        client=client, tag="python", status=wanted, limit=2, sort="created_at", cursor=first.next_cursor
    )
    check(isinstance(second, TodoPage), f"the second page answers (got {second!r})")
    assert isinstance(second, TodoPage)
    check(second.next_cursor is None, "the second page is the last")
    seen = [t.id for t in first.items + second.items]
    check(sorted(map(str, seen)) == sorted(str(t.id) for t in created), f"each tagged todo once (got {seen})")
    check(all(t.status in wanted for t in first.items + second.items), "statuses come back as enum members")

    target = created[0]
    tag = etags[str(target.id)]
    fresh = get_todo.sync_detailed(target.id, client=client, if_none_match=tag)
    check(fresh.status_code == 304, f"a read naming the current ETag answers 304 (got {fresh.status_code})")

    updated = update_todo.sync_detailed(target.id, client=client, body=UpdateTodo(status=TodoStatus.DONE), if_match=tag)
    check(isinstance(updated.parsed, Todo), f"an update with the current ETag succeeds (got {updated.status_code})")
    assert isinstance(updated.parsed, Todo)
    check(updated.parsed.status is TodoStatus.DONE and updated.parsed.completed_at is not None, "done, with a time")
    check(updated.parsed.version == target.version + 1, "the version moved on by one")
    new_tag = etag_of(updated, "an updated todo")
    check(new_tag != tag, "the ETag changed with the version")

    stale = update_todo.sync_detailed(target.id, client=client, body=UpdateTodo(title="Lost update"), if_match=tag)
    check(stale.status_code == 412, f"a stale If-Match answers 412 (got {stale.status_code})")
    problem = stale.parsed
    check(isinstance(problem, Problem), f"the 412 is parsed as a Problem (got {problem!r})")
    assert isinstance(problem, Problem)
    check(problem.code == "precondition_failed" and problem.status == 412, f"a typed Problem (got {problem!r})")
    check(stale.headers["content-type"].startswith("application/problem+json"), "the problem is problem+json")

    deleted = delete_todo.sync_detailed(target.id, client=client, if_match=new_tag)
    check(deleted.status_code == 204, f"delete answers 204 (got {deleted.status_code})")
    gone = get_todo.sync_detailed(target.id, client=client)
    check(gone.status_code == 404 and isinstance(gone.parsed, Problem), "a deleted todo is 404 with a Problem")

    # The catalogue's security is optional (`[{}, {"bearer": []}, ...]`);
    # openapi-python-client 0.29 types any security list as requiring an
    # AuthenticatedClient, so the anonymous client is passed through a cast.
    catalogue = list_products.sync(client=cast(AuthenticatedClient, anonymous), limit=5)
    check(isinstance(catalogue, ProductPage), f"the catalogue is public (got {catalogue!r})")
    assert isinstance(catalogue, ProductPage)
    check(1 <= len(catalogue.items) <= 5, "a page of one to five products")

    try:
        TodoStatus("finished")
    except ValueError:
        pass
    else:
        check(False, "an unknown status is refused by the enum")

    print(f"python client: flow passed against {BASE} ({len(created) + 1} todos, {len(catalogue.items)} products)")


if __name__ == "__main__":
    main()
