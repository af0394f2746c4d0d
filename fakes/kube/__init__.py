"""The simulated Kubernetes cluster: API server core, front ends, controllers and faults."""
