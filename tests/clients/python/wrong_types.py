"""Must NOT type-check: scripts/live-checks.sh runs mypy on this file and
fails unless mypy reports each line below. Proof that the generated Python
client types Rivet's closed sets as enums, not as plain strings."""

from rivet_client.models import CreateTodo, Role, TodoPriority, TodoStatus, UpdateTodo

CreateTodo(title="t", status="finished")  # a status outside TodoStatus
UpdateTodo(priority="critical")  # a priority outside TodoPriority
role: Role = "owner"  # a role outside Role
status: TodoStatus = TodoPriority.HIGH  # one enum is not another
