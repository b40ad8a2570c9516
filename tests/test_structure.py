"""The package's shape: imports in one direction, short modules, one table of stages."""

from __future__ import annotations

import ast
from pathlib import Path

import ytmaker
from ytmaker import graph

PACKAGE = Path(ytmaker.__file__).parent
MAX_LINES = 350


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every ytmaker module -> the ytmaker modules it imports, at module level or inside functions."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("ytmaker") and target != name:
                    edges[name].add(target)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_among_ytmaker_modules():
    edges = import_graph()
    assert "ytmaker.pipelines.flow" in edges["ytmaker.stages.runner"]  # the graph sees real edges
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_pipeline_does_not_import_the_actors_or_the_middleware():
    edges = import_graph()
    below = ["ytmaker.pipelines.flow", "ytmaker.pipelines.dispatch", "ytmaker.runtime", "ytmaker.recovery"]
    for module in below:
        reached = _reachable(edges, module)
        assert not {m for m in reached if m.startswith(("ytmaker.actors", "ytmaker.middleware"))}, module
    assert not {m for m in _reachable(edges, "ytmaker.middleware") if m.startswith(("ytmaker.pipelines", "ytmaker.runtime"))}


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_module_is_longer_than_the_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_stage_of_the_table_has_its_module_and_actor():
    import dramatiq

    import ytmaker.actors  # noqa: F401
    from ytmaker.stages import stage_function

    broker = dramatiq.get_broker()
    for row in graph.TABLE:
        assert callable(stage_function(row.name))
        for actor_name in (row.actor, *row.parts):
            assert broker.get_actor(actor_name).queue_name == row.queue
    assert sum(row.weight for row in graph.TABLE) == 100


def _imports_of_a_fresh_worker(prelude: str) -> dict:
    import json
    import subprocess
    import sys

    code = (f"{prelude}\nimport json, sys\nimport ytmaker.actors\nfrom ytmaker.periodic import recover_stalled\n"
            "print(json.dumps({'loaded': sorted(m for m in ('periodiq', 'pendulum', 'PIL', 'ytmaker.projects', "
            "'ytmaker.media.render') if m in sys.modules), 'periodic': 'periodic' in recover_stalled.options}))")
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_stage_worker_loads_neither_the_scheduler_nor_pillow_nor_the_renderer_at_start():
    assert _imports_of_a_fresh_worker("") == {"loaded": [], "periodic": False}


def test_the_scheduler_process_declares_the_periodic_schedule():
    # periodiq's command imports periodiq before it imports the actors
    seen = _imports_of_a_fresh_worker("import periodiq")
    assert seen["periodic"] is True and "periodiq" in seen["loaded"]


def test_the_scheduler_entry_point_declares_the_schedule_and_loads_no_database_or_stages():
    import json
    import subprocess
    import sys

    code = ("import periodiq, json, sys\nimport ytmaker.scheduler as s\n"
            "print(json.dumps({'periodic': 'periodic' in s.recover_stalled.options, 'loaded': sorted(m for m in "
            "('sqlalchemy', 'psycopg', 'PIL', 'ytmaker.runtime', 'ytmaker.stages') if m in sys.modules)}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin"}, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"periodic": True, "loaded": []}
