from pushflow import emit_event, flow


@flow
def emitting(key: str = "a.csv") -> bool:
    return emit_event("acme.file.processed", {"id": "acme.bucket.out", "env": "test"}, payload={"key": key})
