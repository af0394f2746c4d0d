"""An Exact list at any past revision equals the list taken at that revision.

Hypothesis writes random creates, relabels, updates and deletes (deletes then
re-creates of the same name included) over two namespaces, recording a plain list
after every write. Afterwards every recorded revision is listed again with
``resourceVersionMatch=Exact``, through a label selector and paged with a random
limit: the pages must concatenate to exactly the recorded objects (same bytes)
that match the selector, each page stamped with that revision.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fakes.kube import Api, ObjectStore
from fakes.kube.kinds import DEFAULT_REGISTRY
from fakes.kube.selectors import LabelSelector

CONFIGMAPS = DEFAULT_REGISTRY.resolve("configmaps")

ops = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete"]),
        st.sampled_from(["default", "other"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["x", "y"]),
    ),
    max_size=25,
)


def _write(api: Api, op: str, ns: str, name: str, team: str) -> None:
    existing = api.store.get(CONFIGMAPS, ns, name)
    if op == "delete":
        if existing is not None:
            api.delete("configmaps", name, ns)
        return
    body: dict[str, Any] = {"metadata": {"name": name, "labels": {"team": team}}}
    if existing is None:
        api.create("configmaps", body, ns)
    else:
        api.update("configmaps", {**body, "data": {"v": str(api.store.rv)}}, ns)


@given(ops=ops, selector=st.sampled_from(["", "team=x", "team!=x"]), limit=st.integers(0, 3))
def test_exact_list_at_every_revision_equals_the_list_then(
    ops: list[tuple[str, str, str, str]], selector: str, limit: int
) -> None:
    api = Api(ObjectStore(DEFAULT_REGISTRY.kinds))
    api.create("namespaces", {"metadata": {"name": "other"}})
    recorded: dict[int, list[tuple[str, str, bytes, dict[str, str]]]] = {}
    for op in ops:
        _write(api, *op)
        page = api.list_page(CONFIGMAPS, None)
        recorded[page.resource_version] = [
            (s.namespace, s.name, s.raw, s.labels) for s in page.items
        ]
    labels = LabelSelector.parse(selector)
    for rv, then in recorded.items():
        want = [(ns, name, raw) for ns, name, raw, lbl in then if labels.matches(lbl)]
        got: list[tuple[str, str, bytes]] = []
        token = ""
        while True:
            page = api.list_page(
                CONFIGMAPS,
                None,
                label_selector=selector,
                limit=limit,
                continue_token=token or None,
                resource_version=None if token else str(rv),
                resource_version_match=None if token else "Exact",
            )
            assert page.resource_version == rv
            got += [(s.namespace, s.name, s.raw) for s in page.items]
            token = page.continue_token
            if not token:
                break
        assert got == want
