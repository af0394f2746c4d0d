"""The simulated cluster's controllers: scheduler, kubelets, workload and node controllers.

They run on the asyncio event loop, read time only from it, and draw randomness from
seeded streams, so a simulation is fast-forwardable (looptime) and repeatable. Start
them through :class:`fakes.kube.simulation.SimulatedCluster`.
"""

from fakes.kube.controllers.config import Delay, NodeShape, SimulationConfig
from fakes.kube.controllers.manager import ControllerManager

__all__ = ["ControllerManager", "Delay", "NodeShape", "SimulationConfig"]
