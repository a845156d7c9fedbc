"""The apps' layers hold (pyproject.toml [tool.importlinter], CONVENTIONS "Layers") and no module imports
itself through others (issue #14 item 1): an upward import or a new cycle fails the suite."""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def _production(module: str) -> bool:
    return ".tests" not in module and ".migrations" not in module and not module.startswith("rpms.testing")


def module_cycles(graph) -> set[frozenset]:
    """The strongly connected components of more than one module among the non-test modules."""
    modules = sorted(m for m in graph.modules if _production(m))
    edges = {m: sorted(n for n in graph.find_modules_directly_imported_by(m) if _production(n)) for m in modules}
    index, low, on_stack, stack, found = {}, {}, set(), [], set()
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def test_the_layers_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_import_cycle():
    """0 import cycles among the non-test modules, function-level imports included (grimp counts them)."""
    graph = grimp.build_graph("rpms", include_external_packages=False, cache_dir=None)
    assert module_cycles(graph) == set()


def test_a_cycle_is_found():
    graph = grimp.ImportGraph()
    for module in ("rpms.a.services", "rpms.a.selectors", "rpms.b.models", "rpms.a.tests.test_x"):
        graph.add_module(module)
    graph.add_import(importer="rpms.a.services", imported="rpms.a.selectors")
    graph.add_import(importer="rpms.a.selectors", imported="rpms.a.services")
    graph.add_import(importer="rpms.a.tests.test_x", imported="rpms.a.services")
    graph.add_import(importer="rpms.a.services", imported="rpms.a.tests.test_x")  # tests do not count
    graph.add_import(importer="rpms.b.models", imported="rpms.a.services")
    assert module_cycles(graph) == {frozenset({"rpms.a.services", "rpms.a.selectors"})}
