"""Push-pool adapters: one per provider, each a small `PushPool` (submit, status, cancel,
logs), idempotent on the run id. Adapters report facts; the control plane decides states.

Reach an adapter through `push_pools.registry.load(pool_type)`, which imports a cloud SDK
only when a pool of that type is used.
"""
