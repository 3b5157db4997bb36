from runtime import flow, get_run_logger, task


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def transform(rows: list[int]) -> list[int]:
    return [r * 10 for r in rows]


@task
def load(rows: list[int]) -> int:
    get_run_logger().info("loaded %d rows", len(rows))
    return sum(rows)


@flow(log_prints=True)
def etl(n: int = 3) -> int:
    total = load(transform(extract(n)))
    print(f"total is {total}")
    return total
