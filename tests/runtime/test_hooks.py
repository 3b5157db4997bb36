from __future__ import annotations

from runtime import flow, task


def test_task_hooks_see_the_final_state() -> None:
    seen = []

    def on_done(t, run, state) -> None:
        seen.append(("done", t.name, run.task_run_name, state.result))

    def on_fail(t, run, state) -> None:
        seen.append(("fail", t.name, state.message))

    @task(on_completion=[on_done], on_failure=[on_fail])
    def maybe(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return x

    @flow
    def f() -> None:
        maybe(1)
        maybe.submit(-1).wait()

    f()
    assert seen == [("done", "maybe", "maybe-0", 1), ("fail", "maybe", "ValueError: negative")]


def test_flow_hooks_run_and_a_broken_hook_does_not_change_the_state() -> None:
    seen = []

    def broken(fl, run, state) -> None:
        raise RuntimeError("hook bug")

    def record(fl, run, state) -> None:
        seen.append((fl.name, run.flow_run_name, state.type.value))

    @flow(on_completion=[broken, record], flow_run_name="good")
    def good() -> int:
        return 1

    @flow(on_failure=[record], flow_run_name="bad")
    def bad() -> None:
        raise ValueError("no")

    assert good() == 1
    assert bad(return_state=True).is_failed()
    assert seen == [("good", "good", "COMPLETED"), ("bad", "bad", "FAILED")]
