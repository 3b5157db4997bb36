"""Push-pool adapters: one per provider, each a small stateless `PushPool` (submit, status,
cancel, logs, release), idempotent on the run id and attempt. Adapters report facts; the
control plane decides states and persists each attempt's `InfraRef`.

Reach an adapter through `push_pools.registry.load(kind)()`, which imports a cloud SDK
only when a pool of that kind is used.
"""
