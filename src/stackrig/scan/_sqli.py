"""SQL injection into one parameter or body field: error-based, then time-based.

* **Error-based**: each payload of `sql-error-payloads.txt` appended to the benign value; a database
  error signature (PostgreSQL, MySQL, SQLite, MSSQL: `sql-errors.txt`) in the response that the
  benign response does not carry is a finding. So is a 5xx on a quote-breaking payload where the
  benign value answered 2xx and the payload's balanced twin (``''`` for ``'``) answered without a 5xx:
  the quote reached something that parses it.
* **Time-based**: each payload of `sql-time-payloads.txt` (``pg_sleep``, ``SLEEP``, ``WAITFOR DELAY``)
  with a delay of `d` seconds replaces the value. A finding needs the response to come at least
  `d` later than the benign one; the same payload asking for 0 seconds to come back fast (the delay
  follows the payload's number); the payload to delay twice more (confirmed twice: both requests
  at once, each must take `d`); and the benign value to still answer fast afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ._context import Context, excerpt
from ._http import Sent, Values, wire_text
from ._payloads import sql_error_payloads, sql_errors, sql_time_payloads
from ._schema import Operation, Param

__all__ = ["check_sql_injection"]


def _signature(text: str, skip: set[str]) -> tuple[str, str] | None:
    for dbms, pattern in sql_errors():
        if pattern.pattern in skip:
            continue
        match = pattern.search(text)
        if match:
            return dbms, excerpt(text, match.start(), match.end())
    return None


def _error_based(ctx: Context, op: Operation, values: Values, base: Sent, point: Param, text: str) -> bool:
    benign_text = base.text
    skip = {pattern.pattern for _, pattern in sql_errors() if pattern.search(benign_text)}
    for payload, twin in sql_error_payloads():
        value = text + payload
        sent = ctx.send(op, values.with_value(point, value))
        if sent is None or sent.status == 0:
            continue
        hit = _signature(sent.text, skip)
        if hit is not None:
            dbms, evidence = hit
            return ctx.found("sql-injection", op, f"{dbms} error in the response to a quote-breaking value",
                             f"{sent.status}: {evidence}", sent, point=point, payload=value)
        if twin is None or not sent.server_error or not base.ok:
            continue
        balanced = ctx.send(op, values.with_value(point, text + twin))
        if balanced is None or balanced.status == 0 or balanced.server_error:
            continue
        return ctx.found("sql-injection", op, "5xx on a quote-breaking value, not on its balanced twin",
                         f"{value!r} answered {sent.status} ({sent.text[:80]!r}); {text + twin!r} answered "
                         f"{balanced.status}; the benign {text!r} answered {base.status}",
                         sent, point=point, payload=value)
    return False


def _time_based(ctx: Context, op: Operation, values: Values, base: Sent, point: Param) -> bool:
    d = ctx.delay
    shown = f"{d:g}"
    again = ctx.send(op, values)
    floor = min(base.elapsed, again.elapsed) if again is not None and again.status else base.elapsed

    def slow(sent: Sent | None) -> bool:
        return sent is not None and sent.elapsed >= d * 0.9 and sent.elapsed - floor >= d * 0.75

    def fast(sent: Sent | None) -> bool:
        return sent is not None and sent.status != 0 and sent.elapsed - floor < d * 0.5

    for dbms, template in sql_time_payloads():
        payload = template.replace("{d}", shown)
        first = ctx.send(op, values.with_value(point, payload))
        if not slow(first):
            continue
        zero = ctx.send(op, values.with_value(point, template.replace("{d}", "0")))
        if not fast(zero):
            continue
        with ThreadPoolExecutor(max_workers=2) as pool:  # the two confirmations at once: each must wait d
            pair = [pool.submit(ctx.send, op, values.with_value(point, payload)) for _ in range(2)]
            second, third = (future.result() for future in pair)
        if not (slow(second) and slow(third)):
            continue
        after = ctx.send(op, values)
        if not fast(after):
            continue
        assert first is not None and second is not None and third is not None and zero is not None
        assert after is not None
        return ctx.found("sql-injection", op, f"{dbms} time delay: the response waits for the payload's sleep",
                         f"asked for {shown} s: answered after {first.elapsed:.2f} s, {second.elapsed:.2f} s, "
                         f"{third.elapsed:.2f} s; asked for 0 s: {zero.elapsed:.2f} s; the benign value: "
                         f"{floor:.2f} s and {after.elapsed:.2f} s", first, point=point, payload=payload)
    return False


def check_sql_injection(ctx: Context, op: Operation, values: Values, base: Sent, point: Param) -> None:
    current = values.get(point)
    text = "1" if current is None or isinstance(current, dict | list) else wire_text(current)
    if _error_based(ctx, op, values, base, point, text):
        return
    if ctx.delay > 0:
        _time_based(ctx, op, values, base, point)
