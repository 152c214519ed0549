"""Triggered by examples.announced: the event is in context.event."""


async def handler(context):
    message = context.event["payload"]["message"] if context.event else None
    context.services.logger.info("reacting", {"message": message})
    return {"reacted_to": context.event["id"] if context.event else None}
