"""Stages: the stage graph of a dynamic supply chain (Plan P, Inspect I, Update U, Query F_Q,
Error F_E) and its picture."""

from core.stages.graph import KINDS, STATUSES, Stage, StageError, StageGraph
from core.stages.plan import inspect_design, plan_stages, source_label, sub_graph
from core.stages.progress import Branch, Progress, Share, affected_nodes, progress, root_causes
from core.stages.update import Applied, Assertion, apply, may_assert, replay

__all__ = [
    "KINDS",
    "STATUSES",
    "Applied",
    "Assertion",
    "Branch",
    "Progress",
    "Share",
    "Stage",
    "StageError",
    "StageGraph",
    "affected_nodes",
    "apply",
    "inspect_design",
    "may_assert",
    "plan_stages",
    "progress",
    "replay",
    "root_causes",
    "source_label",
    "sub_graph",
]
