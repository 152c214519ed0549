"""Fails twice, then succeeds: each attempt is recorded, with its error and stack."""


async def handler(context):
    if context.attempt < 3:
        context.services.logger.warning("not yet", {"attempt": context.attempt})
        raise ConnectionError(f"the upstream is not ready (attempt {context.attempt})")
    return {"succeeded_on_attempt": context.attempt}
